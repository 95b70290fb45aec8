# pam_passkey — see README.md.
#   make demo    the second-device story on two simulated hosts, through real libpam
#   make check   every test (installs missing Debian packages and a throwaway venv first)
#   make bench   benchmark figures
#   make install DESTDIR=...
#   make deb     the Debian package, in .build/deb/
#   make docs    refresh README.md's table of policy keys

CONFIG     ?= release
SWIFT      ?= swift
BUILD_DIR  := .build/$(CONFIG)
SWIFTFLAGS := -c $(CONFIG) -Xswiftc -enable-testing
PY         := .venv-test/bin/python
export PAM_PASSKEY_BUILD := $(CURDIR)/$(BUILD_DIR)

.PHONY: all deps build check unit integration fuzz demo bench install deb docs clean

all: build

deps:
	@./scripts/install-deps.sh

# One build, reused by every test stage: products, tests, and pam_passkey.so. The setuid
# launcher (C, static) is installed as pam_passkey_helper and starts the Swift helper at
# /usr/libexec/pam_passkey/pam_passkey_authenticator; in the build directory the Swift helper
# keeps its name, pam_passkey_helper, and the tests run it directly.
build: deps
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	@ln -sfn libpam_passkey.so $(BUILD_DIR)/pam_passkey.so
	$(CC) -O2 -Wall -Wextra -o $(BUILD_DIR)/passkey-footprint-probe Sources/FootprintProbe/main.c -lpam -ldl
	CC="$(CC)" ./Sources/HelperLauncher/build.sh $(BUILD_DIR)/pam_passkey_launcher

check: build
	$(MAKE) --no-print-directory unit integration fuzz

unit:
	$(SWIFT) test $(SWIFTFLAGS) --skip-build

integration:
	$(PY) -m pytest -q Tests/Integration

fuzz:
	./Fuzz/run.sh

demo: build
	./scripts/demo.sh

bench: build
	$(BUILD_DIR)/passkey-bench

install: build
	./scripts/install.sh "$(DESTDIR)" "$(BUILD_DIR)"

deb: build
	./Packaging/build-deb.sh "$(BUILD_DIR)" .build/deb

docs: build
	./scripts/update-readme-keys.sh "$(BUILD_DIR)"

clean:
	rm -rf .build .venv-test Fuzz/build
