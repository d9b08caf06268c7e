"""The JSON shapes of the requester REST API as pydantic models, shared by the server and the SDK.

Nothing here does I/O or knows the server: ``crowdfill.server`` validates requests with these
models and ``crowdfill.client`` builds requests and reads answers with them (docs/protocol.md).
"""
