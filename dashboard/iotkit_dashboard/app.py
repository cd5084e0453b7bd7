"""The dashboard's web app (FastAPI): the page, its live stream (Server-Sent Events)
and a small JSON API. OpenAPI: /openapi.json, browsable at /docs."""
from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any, Dict, List, Optional

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

import iotkit

from .service import HISTORY_POINTS, FleetService, NoSuchMetric

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
KEEPALIVE_S = 1.0


class CommandRequest(BaseModel):
    name: str = Field(..., description="command name, e.g. set_interval")
    params: Optional[Dict[str, Any]] = Field(None, description="a JSON object, or null for none")
    timeout: float = Field(5.0, gt=0, le=60, description="seconds to wait for the device's answer")


class DesiredRequest(BaseModel):
    patch: Dict[str, Any] = Field(..., description="a JSON merge patch of the desired state (null deletes a key)")


def _error(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail={"error": code, "message": message})


def _iotkit_error(e: iotkit.IotkitError) -> HTTPException:
    """The HTTP answer for an error of the binding: its class decides the status."""
    if isinstance(e, iotkit.NotFoundError):
        return _error(404, "not_found", str(e))
    if isinstance(e, iotkit.OfflineError):
        return _error(409, "offline", str(e))
    if isinstance(e, iotkit.RemoteError):
        return _error(502, "remote_error", str(e))
    if isinstance(e, iotkit.TimeoutError):
        return _error(504, "timeout", str(e))
    if isinstance(e, iotkit.ConnectionError):
        return _error(503, "not_connected", str(e))
    if isinstance(e, (iotkit.InvalidArgumentError, iotkit.TooLargeError)):
        return _error(400, "invalid", str(e))
    return _error(500, "error", str(e))


def create_app(service: FleetService, *, stopping: Optional[threading.Event] = None,
               files: Optional[str] = None) -> FastAPI:
    """The app around @p service. @p stopping, once set, ends the live streams (so that the
    server can stop while pages are open)."""
    stop = stopping or threading.Event()
    app = FastAPI(title="libiotkit dashboard", version="1",
                  description="The demo fleet: devices, their telemetry, commands and desired state.")
    app.state.service = service
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if files:
        app.mount("/files", StaticFiles(directory=files), name="files")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(os.path.join(STATIC, "index.html"))

    @app.get("/api/info", summary="What this dashboard can do")
    def info() -> Dict[str, Any]:
        return {"broker": service.uri, "connected": service.fleet.connected if service.uri else False,
                "started_ms": service.started_ms, "locations": service.has_locations,
                "rollouts": service.rollouts_available(), "rollouts_note": service.rollouts_note(),
                "commands": ["ping", "set_interval", "reboot"]}

    @app.get("/api/devices", summary="Every registered device")
    def devices(filter: Optional[str] = Query(None, description="only ids, names, tags or transports containing this")) -> List[Dict[str, Any]]:
        out = service.devices()
        if filter:
            f = filter.lower()
            out = [d for d in out if any(f in str(x).lower() for x in [d["id"], d["name"], d["transport"], *d["tags"]])]
        return out

    @app.get("/api/devices/{id}", summary="One device")
    def device(id: str) -> Dict[str, Any]:
        try:
            return service.device(id)
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)

    @app.get("/api/devices/{id}/history", summary="Telemetry received since the dashboard started")
    def history(id: str, metric: Optional[str] = None,
                limit: int = Query(HISTORY_POINTS, ge=1, le=HISTORY_POINTS)) -> Dict[str, Any]:
        try:
            return {"id": id, "metrics": service.history(id, metric, limit)}
        except NoSuchMetric as e:
            raise _error(404, "not_found", str(e))
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)

    @app.get("/api/devices/{id}/track", summary="Recent positions, oldest first")
    def track(id: str) -> Dict[str, Any]:
        try:
            service.fleet.get(id)
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)
        return {"id": id, "available": service.has_locations, "points": service.track(id)}

    @app.get("/api/events", summary="Recent events (edge rules' alarms and anomalies)")
    def events() -> List[Dict[str, Any]]:
        return service.events()

    @app.post("/api/devices/{id}/commands", summary="Send a command and wait for its answer")
    def command(id: str, req: CommandRequest) -> Dict[str, Any]:
        try:
            return {"id": id, "name": req.name, "result": service.call(id, req.name, req.params, req.timeout)}
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)

    @app.get("/api/devices/{id}/desired", summary="The desired state the fleet holds")
    def desired(id: str) -> Dict[str, Any]:
        try:
            version, state = service.desired(id)
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)
        return {"id": id, "version": version, "state": state}

    @app.patch("/api/devices/{id}/desired", summary="Merge a patch into the desired state and publish it")
    def set_desired(id: str, req: DesiredRequest) -> Dict[str, Any]:
        try:
            version = service.set_desired(id, req.patch)
            _, state = service.desired(id)
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)
        return {"id": id, "version": version, "state": state}

    @app.get("/api/rollouts", summary="Rollouts (when the binding has them)")
    def rollouts() -> List[Dict[str, Any]]:
        return service.rollouts()

    @app.post("/api/rollouts", summary="Start an OTA rollout")
    def start_rollout(body: Dict[str, Any] = Body(...)) -> Dict[str, Any]:
        try:
            return service.start_rollout(body)
        except ValueError as e:
            raise _error(400, "invalid", str(e))
        except NotImplementedError as e:
            raise _error(501, "unsupported", str(e))
        except iotkit.IotkitError as e:
            raise _iotkit_error(e)

    @app.get("/api/stream", summary="Live updates (Server-Sent Events)", include_in_schema=True)
    async def stream(request: Request) -> StreamingResponse:
        q = service.hub.subscribe()

        async def gen():  # type: ignore[no-untyped-def]
            try:
                snapshot = await asyncio.get_running_loop().run_in_executor(None, service.devices)
                yield "data: %s\n\n" % json.dumps({"kind": "snapshot", "data": snapshot})
                while not stop.is_set():
                    try:
                        text = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except asyncio.TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": keepalive\n\n"
                        continue
                    yield "data: %s\n\n" % text
            finally:
                service.hub.unsubscribe(q)

        return StreamingResponse(gen(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": "http", "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code)

    return app
