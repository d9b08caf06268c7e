// Socket.IO transports for the live pages. Where the browser has WebSockets the page opens one
// straight away: no long-polling handshake first and no upgrade dance, so every frame after the
// connect costs one WebSocket message. If the WebSocket cannot be opened (no WebSocket in the
// browser, or a proxy that refuses the upgrade) the same connection attempt falls back to
// long-polling (`tryAllTransports`), which may later upgrade as usual.

export function liveTransports(hasWebSocket = typeof window.WebSocket === "function") {
  if (!hasWebSocket) return { transports: ["polling"] };
  return { transports: ["websocket", "polling"], tryAllTransports: true };
}
