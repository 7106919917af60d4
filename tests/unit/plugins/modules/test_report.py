# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kbypass.testbed.report on the example run (tests/unit/fixtures/run_example)."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.kbypass.testbed.plugins.module_utils import report as lib
from ansible_collections.kbypass.testbed.plugins.modules import report

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'run_example')
RUN_ID = '20261127T010203Z-a1b2c3'


@pytest.fixture
def run_dir(tmp_path):
    dest = str(tmp_path / RUN_ID)
    shutil.copytree(FIXTURE, dest)
    return dest


def warning_texts(out):
    texts = []
    for warning in out.get('warnings', []):
        texts.append(warning if isinstance(warning, str) else str(warning.get('msg', warning)))
    return texts


def test_writes_the_report_then_changes_nothing(run_module, run_dir):
    first = run_module(report.main, {'run_dir': run_dir})
    assert first['changed'] is True and 'failed' not in first
    assert (first['cases'], first['failed_cases']) == (12, 3)
    for key, name in (('csv', 'results.csv'), ('html', 'report.html'), ('summary_md', 'summary.md')):
        assert first[key] == os.path.join(run_dir, name) and os.path.getsize(first[key]) > 0
    assert len(first['plots']) == 4 and all(os.path.isfile(p) for p in first['plots'])
    assert set(first['changed_files']) >= {'results.csv', 'summary.md', 'report.html'}
    assert 'linux_bridge' in first['table'] and 'FAILED' in first['table']
    assert len(first['report_warnings']) == 3
    assert any('cannot be parsed' in w for w in warning_texts(first))
    csv_before = open(first['csv'], 'rb').read()
    second = run_module(report.main, {'run_dir': run_dir})
    assert second['changed'] is False and second['changed_files'] == []
    assert open(second['csv'], 'rb').read() == csv_before


@pytest.mark.parametrize('prepare, changed', [
    ('fresh', True),
    ('written', False),
    ('summary edited', True),
])
def test_check_mode_writes_nothing(run_module, run_dir, prepare, changed):
    if prepare != 'fresh':
        lib.write_report(run_dir)
    if prepare == 'summary edited':
        with open(os.path.join(run_dir, 'summary.md'), 'a') as handle:
            handle.write('edited by hand\n')
    before = dict((name, os.path.exists(os.path.join(run_dir, name)) and open(os.path.join(run_dir, name), 'rb').read())
                  for name in ('results.csv', 'summary.md', 'report.html'))
    out = run_module(report.main, {'run_dir': run_dir, '_ansible_check_mode': True})
    assert out['changed'] is changed
    assert ('summary.md' in out['changed_files']) is (prepare != 'written')
    for name, content in before.items():
        path = os.path.join(run_dir, name)
        assert (os.path.exists(path) and open(path, 'rb').read()) == content, name


@pytest.mark.parametrize('remove, message', [
    ('raw', 'has no raw/'),
    ('run.json', 'has no run.json'),
    ('', 'is not a folder'),
])
def test_fails_on_a_folder_that_is_not_a_run(run_module, run_dir, remove, message):
    target = run_dir
    if remove == 'raw':
        shutil.rmtree(os.path.join(run_dir, 'raw'))
    elif remove:
        os.remove(os.path.join(run_dir, remove))
    else:
        target = os.path.join(run_dir, 'nothing')
    out = run_module(report.main, {'run_dir': target})
    assert out['failed'] is True and message in out['msg']
    assert not os.path.exists(os.path.join(run_dir, 'results.csv'))


@pytest.mark.parametrize('flag, library', [
    ('HAS_PANDAS', 'pandas'),
    ('HAS_MATPLOTLIB', 'matplotlib'),
])
def test_missing_library(run_module, run_dir, monkeypatch, flag, library):
    monkeypatch.setattr(lib, flag, False)
    out = run_module(report.main, {'run_dir': run_dir})
    assert out['failed'] is True and "Failed to import the required Python library (%s)" % library in out['msg']
