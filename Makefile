# Thin aliases for scripts/ee (which needs nothing but Python 3.11 and bash).
.PHONY: run test ui lint
run:
	bash scripts/ee run
test:
	bash scripts/ee test
ui:
	bash scripts/ee ui
lint:
	bash scripts/ee lint
