#!/usr/bin/python3
"""llm-serve: a dependency-free model server skeleton with an OpenAI-style HTTP API.

The "model" is an echo model (it returns the prompt, cut to max_tokens whitespace tokens):
the point of the runtime image is the serving plumbing a real backend plugs into: health
checks, request validation, OpenAI-compatible response shapes, signal handling, and a
self-test the factory runs inside the image at build time.

Endpoints: GET /health, GET /v1/models, POST /v1/completions, POST /v1/chat/completions.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "1.1.0"
MODEL = os.environ.get("LLM_MODEL", "echo")
MAX_BODY = int(os.environ.get("LLM_SERVE_MAX_BODY", str(1 << 20)))

# Chat messages are flattened into one prompt with the model's chat template. Jinja2 (the
# `full` python profile) renders the same template format Hugging Face tokenizers ship;
# without it a built-in formatter produces the identical text for this default template.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
try:
    import jinja2

    _JINJA = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    _TEMPLATE = _JINJA.from_string(os.environ.get("LLM_CHAT_TEMPLATE", CHAT_TEMPLATE))
    CHAT_FORMATTER = "jinja2"
except ImportError:
    _TEMPLATE = None
    CHAT_FORMATTER = "builtin"


class BadRequest(Exception):
    pass


def format_chat(messages):
    if _TEMPLATE is not None:
        return _TEMPLATE.render(messages=messages, add_generation_prompt=True)
    return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages) + "<|assistant|>\n"


def echo_tokens(text, max_tokens):
    """The echo model: the first max_tokens whitespace-separated tokens of the text."""
    tokens = text.split()
    out = tokens[:max_tokens]
    return " ".join(out), len(tokens), len(out), "length" if len(tokens) > max_tokens else "stop"


def _max_tokens(body):
    value = body.get("max_tokens", 16)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("max_tokens must be a positive integer")
    return value


def completion(body):
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = prompt
    else:
        raise BadRequest("prompt must be a string or a non-empty list of strings")
    max_tokens = _max_tokens(body)
    choices, prompt_tokens, completion_tokens = [], 0, 0
    for index, p in enumerate(prompts):
        text, n_in, n_out, finish = echo_tokens(p, max_tokens)
        choices.append({"index": index, "text": text, "finish_reason": finish, "logprobs": None})
        prompt_tokens += n_in
        completion_tokens += n_out
    return {
        "id": "cmpl-" + hashlib.sha256(json.dumps(prompts).encode()).hexdigest()[:24],
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": choices,
        "usage": _usage(prompt_tokens, completion_tokens),
    }


def chat_completion(body):
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list")
    for m in messages:
        if not (isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
            raise BadRequest("every message needs a string role and a string content")
    prompt = format_chat(messages)
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    text, _, n_out, finish = echo_tokens(last_user, _max_tokens(body))
    return {
        "id": "chatcmpl-" + hashlib.sha256(prompt.encode()).hexdigest()[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": _usage(len(prompt.split()), n_out),
    }


def _usage(prompt_tokens, completion_tokens):
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def health():
    return {"status": "ok", "version": VERSION, "model": MODEL, "chat_formatter": CHAT_FORMATTER}


def models():
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "llm-serve"}]}


class Handler(BaseHTTPRequestHandler):
    server_version = "llm-serve/" + VERSION
    protocol_version = "HTTP/1.1"

    GET_ROUTES = {"/health": health, "/v1/models": models}
    POST_ROUTES = {"/v1/completions": completion, "/v1/chat/completions": chat_completion}

    def do_GET(self):
        route = self.GET_ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            return self._error(404, "not_found", f"no route GET {self.path}")
        self._send(200, route())

    def do_POST(self):
        route = self.POST_ROUTES.get(self.path)
        if route is None:
            return self._error(404, "not_found", f"no route POST {self.path}")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(411, "invalid_request_error", "Content-Length is required")
        if length > MAX_BODY:
            return self._error(413, "invalid_request_error", f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            self._send(200, route(body))
        except (ValueError, BadRequest) as e:
            self._error(400, "invalid_request_error", str(e))

    def _error(self, status, kind, message):
        # The body may be unread: close rather than parse leftovers as the next request.
        self.close_connection = True
        self._send(status, {"error": {"type": kind, "message": message}})

    def _send(self, status, payload):
        data = json.dumps(payload, indent=1).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # One JSON line per request on stderr: what log collectors parse.
        line = {"client": self.client_address[0], "request": fmt % args}
        sys.stderr.write(json.dumps(line) + "\n")


def serve(host, port):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True

    # SIGTERM (docker stop, forwarded by tini) ends serve_forever cleanly; shutdown() blocks
    # until the loop exits, so it must run off the loop's thread.
    def stop(signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(json.dumps({"event": "listening", "host": host, "port": server.server_address[1]}) + "\n")
    server.serve_forever()
    server.server_close()
    return 0


def request(url, payload=None, timeout=5.0):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, json.loads(resp.read())


def probe(port, wait):
    """Poll /health until it answers or `wait` seconds pass: for HEALTHCHECK and tests."""
    deadline = time.monotonic() + wait
    url = f"http://127.0.0.1:{port}/health"
    while True:
        try:
            status, body = request(url, timeout=2.0)
            print(json.dumps(body, sort_keys=True))
            return 0 if status == 200 and body.get("status") == "ok" else 1
        except (OSError, ValueError) as e:
            if time.monotonic() >= deadline:
                print(f"llm-serve: {url} did not answer: {e}", file=sys.stderr)
                return 1
            time.sleep(0.2)


def self_test(chat):
    """Serve on a free loopback port in this process and check every endpoint's contract."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []

    def check(what, ok):
        if not ok:
            failures.append(what)

    try:
        status, body = request(base + "/health")
        check("health", status == 200 and body == health())
        status, body = request(base + "/v1/models")
        check("models", body["data"][0]["id"] == MODEL)
        status, body = request(base + "/v1/completions", {"prompt": "one two three four", "max_tokens": 2})
        choice = body["choices"][0]
        check("completion text", choice["text"] == "one two" and choice["finish_reason"] == "length")
        check("completion usage", body["usage"] == _usage(4, 2))
        try:
            request(base + "/v1/completions", {"prompt": 42})
            check("bad request rejected", False)
        except urllib.error.HTTPError as e:
            check("bad request rejected", e.code == 400 and "prompt" in json.loads(e.read())["error"]["message"])
        if chat:
            messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there model"}]
            status, body = request(base + "/v1/chat/completions", {"messages": messages, "max_tokens": 8})
            check("chat reply", body["choices"][0]["message"]["content"] == "hello there model")
            expected = "<|system|>\nbe brief\n<|user|>\nhello there model\n<|assistant|>\n"
            check("chat template", format_chat(messages) == expected)
            print(f"chat formatter {CHAT_FORMATTER}")
    finally:
        server.shutdown()
        server.server_close()
    if failures:
        print("self-test failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    print(f"self-test ok (llm-serve {VERSION})")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="llm-serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("LLM_SERVE_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLM_SERVE_PORT", "8000")))
    parser.add_argument("--probe", action="store_true", help="check /health of a running server and exit")
    parser.add_argument("--wait", type=float, default=0.0, help="with --probe: keep trying this many seconds")
    parser.add_argument("--self-test", action="store_true", help="serve on a free port, test every endpoint, exit")
    parser.add_argument("--chat", action="store_true", help="with --self-test: include the chat endpoint")
    parser.add_argument("--version", action="version", version=f"llm-serve {VERSION}")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test(args.chat)
    if args.probe:
        return probe(args.port, args.wait)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
