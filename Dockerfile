# The image every Airflow service in docker-compose.yaml runs: Airflow 3.3.2 plus the
# pinned requirements (instead of _PIP_ADDITIONAL_REQUIREMENTS, which reinstalls at
# every start). The simulator and the webElect seeding job run from it too.
FROM apache/airflow:3.3.2-python3.11

COPY requirements.txt constraints.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/constraints.txt
