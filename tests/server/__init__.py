"""Server tests: real uvicorn on a free port, real Socket.IO clients."""
