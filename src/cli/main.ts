await (await import('./cli.js')).run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
