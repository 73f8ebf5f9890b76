# Aliases for the two commands in README.md; dev.py does the work.
.PHONY: demo test airflow setup
demo:
	python3 dev.py demo
test:
	python3 dev.py test
airflow:
	python3 dev.py airflow
setup:
	python3 dev.py setup
