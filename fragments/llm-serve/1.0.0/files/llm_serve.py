#!/usr/bin/python3
"""llm-serve: a dependency-free model server skeleton with an OpenAI-style HTTP API.

The "model" is an echo model (it returns the prompt, cut to max_tokens whitespace tokens):
the point of the runtime image is the serving plumbing a real backend plugs into: health
checks, request validation, OpenAI-compatible response shapes, signal handling, and a
self-test the factory runs inside the image at build time.

Endpoints: GET /health, POST /v1/completions.
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

VERSION = "1.0.0"
MODEL = os.environ.get("LLM_MODEL", "echo")


class BadRequest(Exception):
    pass


def completion(body):
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise BadRequest("prompt must be a string")
    max_tokens = body.get("max_tokens", 16)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("max_tokens must be a positive integer")
    tokens = prompt.split()
    out = tokens[:max_tokens]
    return {
        "id": "cmpl-" + hashlib.sha256(prompt.encode()).hexdigest()[:24],
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": [
            {
                "index": 0,
                "text": " ".join(out),
                "finish_reason": "length" if len(tokens) > max_tokens else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": len(tokens), "completion_tokens": len(out), "total_tokens": len(tokens) + len(out)},
    }


def health():
    return {"status": "ok", "version": VERSION, "model": MODEL}


class Handler(BaseHTTPRequestHandler):
    server_version = "llm-serve/" + VERSION

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/health":
            return self._send(404, {"error": {"type": "not_found", "message": f"no route GET {self.path}"}})
        self._send(200, health())

    def do_POST(self):
        if self.path != "/v1/completions":
            return self._send(404, {"error": {"type": "not_found", "message": f"no route POST {self.path}"}})
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            self._send(200, completion(body))
        except (ValueError, BadRequest) as e:
            self._send(400, {"error": {"type": "invalid_request_error", "message": str(e)}})

    def _send(self, status, payload):
        data = json.dumps(payload, indent=1).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(host, port):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True

    # SIGTERM (docker stop, forwarded by tini) ends serve_forever cleanly; shutdown() blocks
    # until the loop exits, so it must run off the loop's thread.
    def stop(signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"llm-serve {VERSION} listening on {host}:{server.server_address[1]}", file=sys.stderr)
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


def self_test():
    """Serve on a free loopback port in this process and check the endpoints' contract."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []
    try:
        status, body = request(base + "/health")
        if not (status == 200 and body == health()):
            failures.append("health")
        status, body = request(base + "/v1/completions", {"prompt": "one two three four", "max_tokens": 2})
        choice = body["choices"][0]
        if not (choice["text"] == "one two" and choice["finish_reason"] == "length"):
            failures.append("completion")
        try:
            request(base + "/v1/completions", {"prompt": 42})
            failures.append("bad request accepted")
        except urllib.error.HTTPError as e:
            if e.code != 400:
                failures.append(f"bad request answered {e.code}")
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
    parser.add_argument("--self-test", action="store_true", help="serve on a free port, test the endpoints, exit")
    parser.add_argument("--version", action="version", version=f"llm-serve {VERSION}")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.probe:
        return probe(args.port, args.wait)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
