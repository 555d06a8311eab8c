# The module's brief, as it shows its usage. Run it against a server with
#   KPI_URL=http://127.0.0.1:4000/graphql KPI_API_KEY=kpi_... KPI_PROGRAM_ID=HA \
#   PYTHONPATH=clients/python python3 clients/python/example_usage.py
from monitoring import MonitoringModule

mon = MonitoringModule()

mon.record_resolution_time(case_id="HA-001", days=5)
mon.record_satisfaction(case_id="HA-001", score=4.2)
mon.record_conflict(case_id="HA-002")

dashboard = mon.get_dashboard()
print(dashboard)
