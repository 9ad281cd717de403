# The build report (README "Build report"): bin/report writes STATE_DIR/reports/build.html
# and build.json from the stamps, logs, check reports and registry.

.PHONY: report report-screenshot

# `make repo` ends with the report, remade when a stamp is newer than it; a report that
# fails only warns: it never fails the build.
$(REPORT): $(foreach s,$(STEPS),$(call stamp,$(s)))
	@bin/report || echo "make repo: warning: the build report could not be written (see above); the build itself is complete. Try 'make report'." >&2

##@ Build report
report: ## Write STATE_DIR/reports/build.html (+ build.json): timeline, counts, environment, collections.
	bin/report

report-screenshot: ## Regenerate docs/report.png: a miniature build's report in headless Chromium.
	python3 tests/e2e/report_screenshot.py docs/report.png
