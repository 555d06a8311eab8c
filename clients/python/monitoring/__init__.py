"""The KPI monitoring service's Python client (standard library only, Python 3.9+).

    from monitoring import MonitoringModule

    mon = MonitoringModule()  # KPI_URL, KPI_API_KEY and KPI_PROGRAM_ID from the environment
    mon.record_resolution_time(case_id="HA-001", days=5)
    print(mon.get_dashboard())
"""

from .client import DEFAULT_URL, MonitoringModule
from .errors import (
    AuthenticationError,
    BadInputError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    MonitoringError,
    NetworkError,
    NotFoundError,
    RetryLaterError,
)

__all__ = [
    "DEFAULT_URL",
    "MonitoringModule",
    "MonitoringError",
    "ConfigurationError",
    "BadInputError",
    "AuthenticationError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "RetryLaterError",
    "NetworkError",
]
