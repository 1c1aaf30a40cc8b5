.PHONY: demo check test
demo:  ## install and run the main job on the embedded store
	bash scripts/demo.sh
check:  ## install everything and run the whole test suite (both backends)
	bash scripts/check.sh
test:  ## run the tests in an existing venv (embedded store only unless SHUIBAO_TEST_POSTGIS_URL is set)
	.venv/bin/python -m pytest
