# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab: the real playbooks over SSH against QEMU guests with a stock Debian kernel.

Run through the harness, which boots the guests and points KBYPASS_LAB_INVENTORY at them:
  python tests/lab/lab.py run -- python -m pytest tests/lab/test_lab.py     (make test-lab)
Order: device binding and SR-IOV (tests/lab/devices.yml), then the benchmark (OVS with the kernel
datapath and SR-IOV VFs in the containers, each on one host and as a two-host pair), then
teardown, which always runs: just before it, tests/lab/bind-for-teardown.yml binds spare0 to
vfio-pci again on every guest (on lab2 with its record where the previous version kept it,
/var/lib/kbypass/devbind.json), and teardown alone must give it back.
KBYPASS_LAB_SCOPE=devices (what `make test` runs) leaves out the benchmark, the long part under TCG;
full (the default, `make test-lab`) runs everything.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import subprocess
import sys
import time

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
INVENTORY = os.environ.get('KBYPASS_LAB_INVENTORY')
SCOPES = ('full', 'devices')
SCOPE = os.environ.get('KBYPASS_LAB_SCOPE') or 'full'
if SCOPE not in SCOPES:
    raise SystemExit('KBYPASS_LAB_SCOPE=%r: use one of %s' % (SCOPE, ', '.join(SCOPES)))

pytestmark = pytest.mark.skipif(
    not INVENTORY, reason='needs the QEMU lab guests: run it through tests/lab/lab.py run (make test-lab)')
needs_benchmark = pytest.mark.skipif(
    SCOPE != 'full', reason='KBYPASS_LAB_SCOPE=%s: the benchmark over SSH (kernel OVS, SR-IOV, two hosts) runs in the full '
    'lab only, a longer target (make test-lab)' % SCOPE)


def ansible(argv, check=True):
    """Run an Ansible command; its output also goes, as it comes, to lab-ansible.log in the lab
    results folder (a TCG lab run is long: tail -f it)."""
    t0 = time.monotonic()
    log = os.path.join(os.environ.get('KBYPASS_LAB_RESULTS') or '/tmp', 'lab-ansible.log')
    with open(log, 'a') as handle:
        handle.write('\n$ %s\n' % ' '.join(argv))
        handle.flush()
        proc = subprocess.Popen(argv, cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in proc.stdout:
            handle.write(line)
            handle.flush()
            lines.append(line)
        proc.wait()
    proc.stdout, proc.stderr = ''.join(lines), ''
    head = '$ %s\n(%.0f s, rc %d)\n' % (' '.join(argv), time.monotonic() - t0, proc.returncode)
    sys.stdout.write(head + proc.stdout[-8000:])
    if check and proc.returncode != 0:
        pytest.fail('%s failed (rc %d):\n%s\n%s' % (argv[1], proc.returncode, proc.stdout[-5000:], proc.stderr[-2000:]))
    return proc


def playbook(path, *args, check=True):
    return ansible(['ansible-playbook', path, '-i', INVENTORY] + list(args), check)


def shell(script, hosts='kbypass_hosts'):
    return ansible(['ansible', hosts, '-i', INVENTORY, '-o', '-m', 'ansible.builtin.shell', '-a', script], check=False)


def guest_state():
    """What the benchmark may leave behind on each guest."""
    script = ('lxc-ls -1 2>/dev/null | grep ^kbp- ; ip -br link | grep -E "^(kbp-|ovs-system)" | cut -d" " -f1; '
              'ls -d /var/lib/kbypass /var/lib/kbypass-state /run/kbypass /opt/kbypass/bin/icperf 2>/dev/null; '
              # the ledger: any file left is host state not given back, a devbind record a bound device
              'ls -A /var/lib/kbypass-state 2>/dev/null | sed "s|^|ledger: |"; '
              'for f in /var/lib/kbypass-state/devbind.json /var/lib/kbypass/devbind.json; do '
              '[ -e "$f" ] && echo "devbind record left: $f: $(tr -d "\\n" < "$f")"; done; '
              'n=$(cat /sys/class/net/sriov0/device/sriov_numvfs); [ "$n" = 0 ] || echo "sriov0: $n VFs"; '
              '[ "$(basename "$(readlink /sys/class/net/spare0/device/driver)")" = e1000e ] || echo spare0 not on e1000e; '
              'ovs-vsctl --timeout=5 list-br 2>/dev/null; true')
    return shell(script).stdout


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    results = os.environ.get('KBYPASS_LAB_RESULTS') or str(tmp_path_factory.mktemp('lab-results'))
    os.makedirs(results, exist_ok=True)
    os.environ['KBYPASS_LAB_RESULTS'] = results
    out = {'results': results, 'timings': {}}
    env_results = ['-e', 'benchmark_results_dir=' + results]
    try:
        # devices first: devices.yml creates and removes VFs on sriov0, which the benchmark's
        # sriov path then uses (its containers hold the VFs until teardown)
        t0 = time.monotonic()
        out['devices'] = playbook(os.path.join(TOP, 'tests', 'lab', 'devices.yml'), check=False)
        out['timings']['devices_s'] = round(time.monotonic() - t0)
        if SCOPE == 'full':
            t0 = time.monotonic()
            out['bench'] = playbook(os.path.join(TOP, 'playbooks', 'benchmark.yml'), *env_results)
            out['timings']['benchmark_s'] = round(time.monotonic() - t0)
            out['run_dir'] = sorted(glob.glob(os.path.join(results, '*T*Z-*')))[-1]
    finally:
        # before the tests read it (a module fixture's code after yield runs after every test)
        for old in glob.glob(os.path.join(results, 'bound-*.json')):
            os.remove(old)
        out['bound'] = playbook(os.path.join(TOP, 'tests', 'lab', 'bind-for-teardown.yml'), check=False)
        t0 = time.monotonic()
        out['teardown'] = playbook(os.path.join(TOP, 'playbooks', 'teardown.yml'), check=False)
        out['timings']['teardown_s'] = round(time.monotonic() - t0)
        out['after'] = guest_state()
        with open(os.path.join(results, 'lab-timings.json'), 'w') as handle:
            json.dump(out['timings'], handle)
        sys.stdout.write('lab timings: %s\n' % json.dumps(out['timings']))
    yield out


def rows(lab):
    with open(os.path.join(lab['run_dir'], 'results.csv')) as handle:
        return list(csv.DictReader(handle))


@needs_benchmark
def test_report_over_ssh_from_both_guests(lab):
    for name in ('report.html', 'results.csv', 'summary.md', 'run.json'):
        assert os.path.getsize(os.path.join(lab['run_dir'], name)) > 0, name
    for host in ('lab1', 'lab2'):
        info = json.load(open(os.path.join(lab['run_dir'], 'raw', host, 'host.json')))
        assert info['kernel'].startswith('6.1.') and info['versions']['icperf']


@needs_benchmark
def test_kernel_ovs_rows(lab):
    for host in ('lab1', 'lab2'):
        plan = json.load(open(os.path.join(lab['run_dir'], 'raw', host, 'plan.json')))
        assert plan['provisioned']['ovs']['datapath'] == 'system', plan['provisioned']
    found = [r for r in rows(lab) if r['path'] == 'ovs' and r['metric'] == 'rx_pps' and not r['peer_host']]
    assert {r['host'] for r in found} == {'lab1', 'lab2'}
    for row in found:
        assert row['status'] == 'ok' and 1e3 < float(row['value']) < 1e8, row


@needs_benchmark
def test_sriov_rows(lab):
    for host in ('lab1', 'lab2'):
        plan = json.load(open(os.path.join(lab['run_dir'], 'raw', host, 'plan.json')))
        sriov = plan['provisioned']['sriov']
        assert sriov['pf'] == 'sriov0' and len(sriov['vfs']) == 2 and set(sriov['vf_drivers']) == {'igbvf'}, sriov
    found = [r for r in rows(lab) if r['path'] == 'sriov' and r['metric'] == 'rx_pps' and not r['peer_host']]
    assert {r['host'] for r in found} == {'lab1', 'lab2'}
    for row in found:
        assert row['status'] == 'ok' and 1e3 < float(row['value']) < 1e8, row


@needs_benchmark
@pytest.mark.parametrize('path', ['ovs', 'sriov'])
@pytest.mark.parametrize('mode, metric', [('tput', 'rx_pps'), ('lat', 'rtt_p50_us')])
def test_two_host_pair(lab, path, mode, metric):
    found = [r for r in rows(lab) if r['peer_host'] == 'lab2' and r['path'] == path and r['mode'] == mode
             and r['metric'] == metric]
    assert found, 'no two-host %s row over %s' % (metric, path)
    for row in found:
        assert row['host'] == 'lab1' and row['status'] == 'ok', row
        value = float(row['value'])
        assert (1e3 < value < 1e8) if metric.endswith('_pps') else (1.0 < value < 1e6), row
    case_dir = os.path.join(lab['run_dir'], 'raw', 'lab1', found[0]['case_id'])
    assert sorted(os.listdir(case_dir)) == ['a.jsonl', 'a.stderr', 'b.jsonl', 'b.stderr', 'case.json']
    # its own row, host 'lab1 -> lab2' ('>' escaped in markdown cells)
    assert '| lab1 -&gt; lab2 | %s |' % path in open(os.path.join(lab['run_dir'], 'summary.md')).read()


def devices(lab, host='lab1'):
    path = os.path.join(lab['results'], 'devices-%s.json' % host)
    assert os.path.exists(path), 'devices.yml wrote no record:\n' + lab['devices'].stdout[-3000:]
    return json.load(open(path))


def test_binding_module_moves_a_nic_to_vfio_and_back(lab):
    steps = devices(lab)
    assert steps['bind_check']['changed'] and steps['bind_check']['before']['driver'] == 'e1000e'
    assert steps['bind']['changed'] and steps['bind']['after']['driver'] == 'vfio-pci', steps['bind']
    assert steps['vfio_device'] is True
    assert steps['bind_again']['changed'] is False
    assert steps['unbind']['changed'] and steps['unbind']['after']['driver'] == 'e1000e'
    assert steps['unbind']['after']['netdevs'] == ['spare0']


def test_sriov_module_creates_configures_and_removes_vfs(lab):
    steps = devices(lab)
    assert steps['vf_check']['changed'] and steps['vf_check']['num_vfs'] == 2
    vf = steps['vf']
    assert vf['changed'] and vf['num_vfs'] == 2 and len(vf['vfs']) == 2, vf
    assert vf['vfs'][0]['mac'] == '02:6b:76:01:00:01' and vf['vfs'][0]['vlan'] == 100
    assert vf['vfs'][1]['driver'] == 'vfio-pci'
    assert steps['vf_again']['changed'] is False
    # igbvf took the MAC given on the PF and has a link (QEMU < 10.0.6 needs guest RAM below 4 GiB
    # for that, Linux < 6.3 needs the VFs probed after their settings: tests/lab/README.md)
    assert steps['vf0_mac'] == '02:6b:76:01:00:01' and steps['vf0_carrier'] is True, steps
    assert any('vf 0' in line and '02:6b:76:01:00:01' in line and 'vlan 100' in line for line in steps['vf_ip_link'])
    # refused (the playbook lets it fail: failed_when false), nothing changed
    assert steps['vf_refused']['changed'] is False and 'is bound to vfio-pci' in steps['vf_refused']['msg']
    assert steps['vf_absent']['changed'] and steps['vf_absent']['num_vfs'] == 0
    assert steps['vf_absent_again']['changed'] is False
    assert lab['devices'].returncode == 0


def lab_hosts():
    """The guests of the lab's inventory (its group kbypass_hosts)."""
    proc = subprocess.run(['ansible-inventory', '-i', INVENTORY, '--list'], cwd=TOP, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return sorted(json.loads(proc.stdout).get('kbypass_hosts', {}).get('hosts', []))


def oneline_results(text):
    """{host: (status, stdout, stderr)} from `ansible -o` of a command: status 'ok' for rc 0, else
    'rc=N', or UNREACHABLE!/FAILED! (then stdout is the whole line)."""
    found = {}
    for line in text.splitlines():
        # "lab1 | CHANGED | rc=0 | (stdout) ..." and " (stderr) ..." when it wrote some
        match = re.match(r'^(\S+) \| (?:CHANGED|SUCCESS|FAILED) \| rc=(-?\d+) \| \(stdout\) ?(.*)$', line)
        if match:
            stdout, _sep, stderr = match.group(3).partition(' (stderr) ')
            found[match.group(1)] = ('ok' if match.group(2) == '0' else 'rc=' + match.group(2), stdout.strip(),
                                     stderr.strip())
            continue
        # "lab1 | CHANGED => {...}" (a module ansible does not print as a command)
        match = re.match(r'^(\S+) \| (?:CHANGED|SUCCESS) => (\{.*\})$', line)
        if match:
            result = json.loads(match.group(2))
            found[match.group(1)] = ('ok' if result.get('rc') == 0 else 'rc=%s' % result.get('rc'),
                                     result.get('stdout', '').strip(), result.get('stderr', '').strip())
            continue
        # "lab1 | UNREACHABLE!: Failed to connect ...", "lab1 | FAILED! => {...}"
        match = re.match(r'^(\S+) \| (UNREACHABLE!|FAILED!)', line)
        if match:
            found[match.group(1)] = (match.group(2), line, '')
    return found


def test_teardown_leaves_nothing_on_the_guests(lab):
    assert lab['teardown'].returncode == 0
    hosts = lab_hosts()
    assert hosts, 'the inventory %s lists no kbypass_hosts' % INVENTORY
    found = oneline_results(lab['after'])
    # every guest must answer the look: an unreachable guest, or none heard from, fails the test
    assert sorted(found) == hosts, 'the look after teardown did not hear from every guest %s:\n%s' % (
        hosts, lab['after'][-3000:])
    for host in hosts:
        status, stdout, stderr = found[host]
        assert status == 'ok' and stderr == '', '%s: %s %s %s' % (host, status, stdout, stderr)
        assert 'devbind record left' not in stdout, '%s: a bound device was not given back: %s' % (host, stdout)
        assert stdout in ('', '\\n'), '%s left: %s' % (host, stdout)


def test_teardown_alone_gives_a_bound_device_back(lab):
    """spare0 bound to vfio-pci just before teardown.yml (tests/lab/bind-for-teardown.yml), on lab2 with
    its record where the previous version kept it: teardown alone gives it back to e1000e on every
    guest and leaves no devbind record."""
    assert lab['bound'].returncode == 0, lab['bound'].stdout[-3000:]
    records = sorted(glob.glob(os.path.join(lab['results'], 'bound-*.json')))
    hosts = [os.path.basename(p)[len('bound-'):-len('.json')] for p in records]
    assert 'lab1' in hosts, lab['bound'].stdout[-3000:]
    for host, path in zip(hosts, records):
        with open(path) as handle:
            steps = json.load(handle)
        assert steps['bound']['before']['driver'] == 'e1000e', steps
        assert steps['bound']['after']['driver'] == 'vfio-pci', steps
        # lab2: the record only where the previous version kept it
        assert (steps['ledger_record'], steps['old_record']) == ((False, True) if host == 'lab2' else (True, False)), steps
    found = oneline_results(lab['after'])
    assert sorted(found) == sorted(hosts), lab['after'][-3000:]
    for host in hosts:
        stdout = found[host][1]
        assert 'spare0 not on e1000e' not in stdout and 'devbind record left' not in stdout, (host, stdout)
