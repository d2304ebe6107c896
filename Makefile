# The two commands of the README's quick start. Each installs what it needs first.
.PHONY: demo test dist emulator bench clean

demo:  ## run the app in demo mode against the built-in gateway emulator
	bash scripts/demo.sh

test:  ## lint, type checks, import contracts and the whole test suite
	bash scripts/check.sh

dist:  ## build the Linux bundle, .tar.gz and .deb into dist/ (see packaging/README.md)
	bash scripts/bootstrap.sh && bash packaging/build.sh

emulator:  ## serve the gateway emulator on port 8080 until Ctrl-C
	bash scripts/bootstrap.sh && .venv/bin/python -m bluesdesk.emulator --port 8080

bench:  ## print the benchmarks' figures (each compares with a baseline from the same run)
	bash scripts/bootstrap.sh
	for b in startup emulator_stream catalog_filter models_pane gallery chat_transcript \
	         stream_ui long_chat soak; do \
	    echo "== benchmarks/$$b.py"; QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/$$b.py || exit 1; \
	done

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
