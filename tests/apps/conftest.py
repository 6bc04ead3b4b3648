"""The apps under tests/apps are deployed by the e2e tests, not collected by the repo's pytest.

Each app has its own tests and its own pytest configuration (run them from the app's folder);
collecting them here would import Flask apps into Launchpad's test run.
"""

collect_ignore_glob = ["*"]
