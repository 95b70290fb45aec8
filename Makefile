# pam_passkey — see README.md.
#   make demo    the second-device story on two simulated hosts, through real libpam
#   make check   every test (installs missing Debian packages and a throwaway venv first)
#   make bench   benchmark figures
#   make ship    the build that is installed and packaged (no -enable-testing), in .build/ship/
#   make install DESTDIR=...
#   make deb     the Debian packages (and the -dbgsym package), in .build/deb/
#   make docs    refresh README.md's table of policy keys

CONFIG     ?= release
SWIFT      ?= swift
BUILD_DIR  := .build/$(CONFIG)
# --disable-local-rpath: no RUNPATH=$$ORIGIN in any product. An installed module or program
# must not look for libraries beside itself (sshd and login load the module), and the tests
# and passkey-bench then run the binaries as they are installed.
SWIFTFLAGS := -c $(CONFIG) -Xswiftc -enable-testing --disable-local-rpath
PY         := .venv-test/bin/python
export PAM_PASSKEY_BUILD := $(CURDIR)/$(BUILD_DIR)

# What is installed and packaged is a second release build, of the shipped products only,
# without -enable-testing (which makes every internal symbol public for @testable import,
# and costs optimisation), in its own scratch directory so the tests' build stays as it is.
# The debug information names the sources as /usr/src/pam-passkey: nothing in the packages
# names this checkout (test_deb.py checks it). Without incremental LLVM code generation each
# object's .swift_modhash section is zeros instead of a hash of its IR taken before the
# prefix map applies, which differed from one checkout directory to another; and without
# "breadcrumbs" to the Clang module cache (for LLDB's C types), whose directory names hash
# the checkout's paths. The C target (Sources/CLibcryptoLoader) gets the same prefix map
# through -Xcc.
SHIP_SCRATCH  := .build/ship
SHIP_DIR      := $(SHIP_SCRATCH)/release
SHIP_PRODUCTS := pam_passkey pam_passkey_helper passkeyctl pam_passkey_directory passkey-docgen
SOURCE_PREFIX := /usr/src/pam-passkey
SHIPFLAGS     := -c release --disable-local-rpath --scratch-path $(SHIP_SCRATCH) -Xswiftc -debug-prefix-map -Xswiftc $(CURDIR)=$(SOURCE_PREFIX) \
                 -Xswiftc -Xfrontend -Xswiftc -disable-incremental-llvm-codegen \
                 -Xswiftc -Xfrontend -Xswiftc -no-clang-module-breadcrumbs \
                 -Xcc -ffile-prefix-map=$(CURDIR)=$(SOURCE_PREFIX)
export PAM_PASSKEY_SHIP_BUILD := $(CURDIR)/$(SHIP_DIR)

.PHONY: all deps build ship check unit integration fuzz demo bench install deb docs clean

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

ship: deps
	@for p in $(SHIP_PRODUCTS); do echo "$(SWIFT) build $(SHIPFLAGS) --product $$p"; \
	    $(SWIFT) build $(SHIPFLAGS) --product $$p || exit 1; done
	@ln -sfn libpam_passkey.so $(SHIP_DIR)/pam_passkey.so
	CC="$(CC) -g -ffile-prefix-map=$(CURDIR)=$(SOURCE_PREFIX)" ./Sources/HelperLauncher/build.sh $(SHIP_DIR)/pam_passkey_launcher

# The tests' build, and the shipping build that test_deb.py packages and checks.
check: build ship
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

install: ship
	./scripts/install.sh "$(DESTDIR)" "$(SHIP_DIR)"

deb: ship
	./Packaging/build-deb.sh "$(SHIP_DIR)" .build/deb

docs: build
	./scripts/update-readme-keys.sh "$(BUILD_DIR)"

clean:
	rm -rf .build .venv-test Fuzz/build
