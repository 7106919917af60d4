# kbypass.testbed — the two commands of README:
#   make bench   install what is needed, run playbooks/benchmark.yml on inventories/local
#   make test    the whole test suite (what .ci/run calls)
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BUILD := .build
COLL_PATH := $(BUILD)/collections
COLL_LINK := $(COLL_PATH)/ansible_collections/kbypass/testbed
SANITY_TREE := $(BUILD)/sanity/ansible_collections/kbypass/testbed
INVENTORY ?= inventories/local
ANSIBLE_ARGS ?=
APT_PACKAGES := python3-venv git shellcheck rsync gcc make libc6-dev lxc lxc-templates busybox-static debootstrap sockperf iperf3 ethtool iproute2 dpdk dpdk-dev libdpdk-dev pkg-config dpdk-doc
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLL_PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help deps bench teardown test test-unit test-icperf test-sanity test-lint test-integration build clean

help:
	@echo "make bench     install everything, run the benchmark on this machine (inventories/local)"
	@echo "make test      run the whole test suite (unit, icperf, sanity, lint, integration)"
	@echo "make teardown  remove every container, link and file the benchmark created"
	@echo "make test-lab  boot 2 QEMU guests (tests/lab/lab.py), run the lab test (LAB_CMD) over SSH, tear down"

$(BUILD)/apt.stamp:
	@mkdir -p $(BUILD)
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES)
	@touch $@

$(VENV)/.stamp: requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r tests/requirements.txt
	@touch $@

$(COLL_LINK):
	@mkdir -p $(dir $(COLL_LINK))
	ln -sfn $(CURDIR) $(COLL_LINK)

deps: $(BUILD)/apt.stamp $(VENV)/.stamp $(COLL_LINK)

bench: deps
	ansible-playbook playbooks/benchmark.yml -i $(INVENTORY) $(ANSIBLE_ARGS)

teardown: deps
	ansible-playbook playbooks/teardown.yml -i $(INVENTORY) $(ANSIBLE_ARGS)

build: deps
	ansible-galaxy collection build --force --output-path $(BUILD)/dist .

test: deps
	bash tests/run-all.sh

test-unit: deps
	PYTHONPATH=$(CURDIR)/$(COLL_PATH) python -m pytest tests/unit -q

test-icperf: deps
	bash tests/icperf/run_tests.sh

test-sanity: deps
	bash tests/sanity/run.sh

test-lint: deps
	ansible-lint --profile production

test-integration: deps
	PYTHONPATH=$(CURDIR)/$(COLL_PATH) python -m pytest tests/integration -q -s

.PHONY: test-lab
# the lab test (benchmark over SSH, kernel OVS, two-host pair, device binding, SR-IOV, teardown);
# LAB_CMD='bash tests/lab/smoke.sh' only checks that the guests boot and talk
LAB_CMD ?= python -m pytest tests/lab/test_lab.py -q -rs -s
test-lab: deps
	KBYPASS_LAB_RESULTS=$(CURDIR)/$(BUILD)/lab-results $(VENV)/bin/python tests/lab/lab.py run --keep-logs $(BUILD)/lab -- $(LAB_CMD)

clean:
	rm -rf $(BUILD) $(VENV)
