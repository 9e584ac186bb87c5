# integrityd — see README.md. `make run` and `make test` work on a fresh clone.
PREFIX ?= /usr/local
DESTDIR ?=
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
BIN := dist/integrityd
SRC := $(shell find src etc -type f 2>/dev/null) build.ts package.json

.PHONY: build run test check bench soak install uninstall clean deps

build: $(BIN)

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(BIN): node_modules/.installed $(SRC)
	$(BUN) build.ts

# Run the daemon in the foreground on a demo config under ./run (Ctrl-C stops it).
run: build
	@mkdir -p -m 700 run
	@sed 's|@RUN@|$(CURDIR)/run|g' etc/demo.conf > run/integrityd.conf && chmod 600 run/integrityd.conf
	$(BIN) --config run/integrityd.conf --init-db
	$(BIN) --config run/integrityd.conf --stdout

test: build
	$(BUN) test --timeout 60000

check: build
	$(TSC) --noEmit -p .
	$(BUN) test --timeout 60000

bench: build
	@for b in bench/*/run.ts; do echo "== $$b"; $(BUN) $$b || exit 1; done

soak: build
	@for s in bench/*/soak.ts; do [ -f "$$s" ] || continue; echo "== $$s"; $(BUN) $$s || exit 1; done

install: build
	install -d -m 755 $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/integrityd
	install -d -m 755 $(DESTDIR)/etc $(DESTDIR)/etc/systemd/system
	@if [ -e $(DESTDIR)/etc/integrityd.conf ]; then \
	  echo "keeping existing $(DESTDIR)/etc/integrityd.conf"; \
	else install -m 600 etc/integrityd.conf $(DESTDIR)/etc/integrityd.conf; fi
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' etc/integrityd.service > $(DESTDIR)/etc/systemd/system/integrityd.service
	chmod 644 $(DESTDIR)/etc/systemd/system/integrityd.service
	install -d -m 755 $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	$(BIN) --print-man > $(DESTDIR)$(PREFIX)/share/man/man8/integrityd.8
	$(BIN) --print-completion > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/integrityd
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man8/integrityd.8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/integrityd

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/integrityd $(DESTDIR)/etc/systemd/system/integrityd.service \
	  $(DESTDIR)$(PREFIX)/share/man/man8/integrityd.8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/integrityd

clean:
	rm -rf dist run .cache
