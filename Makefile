# vit-edge: two commands for a new user.
#   make demo   installs the Debian packages if missing, builds, classifies the sample digits
#   make test   installs the same and runs every test (release build: SIMD code is slow in debug)

SWIFT   ?= swift
BIN     := .build/release/vit-edge
SUDO    := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEBS    := libxsimd-dev liblz4-dev pkg-config

.PHONY: all deps build demo test models fixtures clean

all: build

# Debian packages the build needs (header-only xsimd, liblz4).
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product vit-edge

demo: build
	$(BIN) info models/mnist-vit.vitq
	$(BIN) run models/mnist-vit.vitq models/samples/*.pgm --top-k 2
	$(BIN) eval models/mnist-vit.vitq --images models/mnist-test-images.idx3-ubyte.lz4 \
		--labels models/mnist-test-labels.idx1-ubyte.lz4

test: deps
	$(SWIFT) build -c release --product vit-edge
	$(SWIFT) test -c release --disable-swift-testing

# Regenerate the shipped .vitq from the committed checkpoint (deterministic).
models: build
	$(BIN) convert models/mnist-vit/model.safetensors --config models/mnist-vit/config.json -o models/mnist-vit.vitq
	$(BIN) quantize models/mnist-vit.vitq -o models/mnist-vit-int8.vitq --calibration models/mnist-calibration-images.idx3-ubyte.lz4

# Regenerate PyTorch fixtures (needs tools/requirements.txt; not part of make test).
fixtures:
	python3 tools/make_fixtures.py

clean:
	rm -rf .build
