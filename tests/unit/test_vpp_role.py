# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vpp role's startup.conf, rendered by Ansible's templar from the role's defaults and vars
with what the plan hands it (roles/vpp/templates/startup.conf.j2)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'vpp')


RENDER = r"""
import json, os, sys
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
role, given = sys.argv[1], json.loads(sys.argv[2])
variables = {'ansible_managed': 'Ansible managed'}
for name in ('defaults', 'vars'):
    with open(os.path.join(role, name, 'main.yml')) as handle:
        for key, value in yaml.safe_load(handle).items():
            variables[key] = trust_as_template(value) if isinstance(value, str) else value
variables.update(given)
with open(os.path.join(role, 'templates', 'startup.conf.j2')) as handle:
    text = handle.read()
sys.stdout.write(Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text)))
"""


def render(**given):
    """startup.conf as Ansible renders it; in a process of its own (Ansible's templar, once set up,
    changes how the modules run by other tests report their warnings)."""
    proc = subprocess.run([sys.executable, '-c', RENDER, ROLE, json.dumps(given)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def lines(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('#')]


def test_own_cores_main_and_workers_from_the_plan():
    conf = lines(render(vpp_cpus='2-3', vpp_main_cpus='0', vpp_cores_shared=False, vpp_prefix='/opt/vpp'))
    assert 'main-core 0' in conf and 'corelist-workers 2-3' in conf
    assert not [line for line in conf if line.startswith('poll-sleep-usec')]
    assert 'path /opt/vpp/lib/x86_64-linux-gnu/vpp_plugins' in conf


def test_shared_cores_no_workers_main_thread_polls_and_sleeps():
    # the plan on 2 vCPUs in the pair: every thread on CPUs 0-1
    conf = lines(render(vpp_cpus='0-1', vpp_main_cpus='0-1', vpp_cores_shared=True))
    assert 'main-core 0' in conf and not [line for line in conf if line.startswith('corelist-workers')]
    assert 'poll-sleep-usec 10' in conf


def test_loop_on_two_cpus_main_on_the_containers_cpu_worker_on_its_own():
    conf = lines(render(vpp_cpus='0', vpp_main_cpus='1', vpp_cores_shared=False))
    assert 'main-core 1' in conf and 'corelist-workers 0' in conf


def test_workers_chosen_by_hand():
    conf = lines(render(vpp_cpus='1', vpp_main_cpus='0', vpp_worker_cpus='3', vpp_cores_shared=False))
    assert 'corelist-workers 3' in conf


def test_only_the_plugins_wanted_everything_else_disabled():
    conf = lines(render(vpp_plugins=['memif_plugin.so']))
    start = conf.index('plugins {')
    wanted = ['path /usr/lib/x86_64-linux-gnu/vpp_plugins', 'plugin default { disable }',
              'plugin memif_plugin.so { enable }', '}']
    assert conf[start + 1:start + 5] == wanted


@pytest.mark.parametrize('key, line', [
    ('cli', 'cli-listen /run/kbypass/vpp-api/cli.sock'),
    ('api', 'socket-name /run/kbypass/vpp-api/api.sock'),
    ('stats', 'socket-name /run/kbypass/vpp-api/stats.sock'),
    ('buffers', 'buffers-per-numa 16384'),
    ('runtime', 'runtime-dir /run/kbypass/vpp-api'),
])
def test_sockets_and_buffers(key, line):
    assert line in lines(render())


def test_extra_config_is_appended():
    assert lines(render(vpp_extra_config='logging { default-log-level debug }'))[-1] == \
        'logging { default-log-level debug }'
