"""libiotkit's web dashboard: a FastAPI app on the Python binding's iotkit.Fleet."""
from .app import create_app
from .service import DeviceSpec, FleetService, load_devices

__all__ = ["create_app", "DeviceSpec", "FleetService", "load_devices"]
