// Preloaded into Comunica's HTTP server by the tests (NODE_OPTIONS=--require): every listen()
// binds 127.0.0.1, never all interfaces, since Comunica has no option for the address.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number") {
    const [port, ...rest] = args;
    const host = typeof rest[0] === "string" ? rest.shift() : null;
    return listen.call(this, port, "127.0.0.1", ...rest);
  }
  if (args[0] && typeof args[0] === "object" && !Array.isArray(args[0]) && "port" in args[0]) {
    return listen.call(this, { ...args[0], host: "127.0.0.1" }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
