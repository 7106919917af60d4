# -*- coding: utf-8 -*-
# Copyright: kbypass.testbed contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reference study's figures (the papers below; read from their text and plots, about +-2%).

Data only, no logic: the report's comparison tables and plots read it. It is a Python module and
not a JSON/YAML file because AnsiballZ ships a module's module_utils as the .py files it imports,
never a data file beside them, and kbypass.testbed.report runs through AnsiballZ even on the
controller. Which of our paths stands against which row of a table is not said here but in the
registry of data paths (paths.py, the entry's 'study' key).
"""

from __future__ import annotations

VHPC19 = ("[VHPC'19] G. Ara, L. Abeni, T. Cucinotta, C. Vitucci, \"On the Use of Kernel Bypass Mechanisms "
          "for High-Performance Inter-container Communications\", ISC High Performance 2019 workshops, "
          "LNCS 11887, doi 10.1007/978-3-030-34356-9_1")
CLOSER20 = ("[CLOSER'20] G. Ara, L. Abeni, T. Cucinotta, C. Vitucci, \"Comparative Evaluation of Kernel Bypass "
            "Mechanisms for High-performance Inter-container Communications\", CLOSER 2020")
CCIS21 = ("[CCIS'21] G. Ara, L. Lai, T. Cucinotta, L. Abeni, C. Vitucci, \"A Framework for Comparative Evaluation "
          "of High-Performance Virtualized Networking Mechanisms\", CCIS 1399, doi 10.1007/978-3-030-72369-9_3")

STUDY_SIZES = (64, 128, 256, 512, 1024, 1500)

STUDY = {
    'max_rx': {
        'title': 'Maximum received rate, one host, one pair, by frame size',
        'source': VHPC19,
        'label': "VHPC'19",
        'unit': 'Mpps',
        'sizes': STUDY_SIZES,
        'touch': False,
        'rows': {
            'SR-IOV': (16.2, 16.2, 14.3, 7.9, 4.1, 3.2),
            'testpmd': (10.1, 9.2, 8.1, 6.3, 4.6, 3.5),
            'Snabb (static)': (7.1, 7.0, 6.1, 5.1, 3.5, 2.7),
            'VPP': (6.3, 5.9, 5.2, 3.9, 2.8, 2.3),
            'OVS-DPDK': (5.3, 5.1, 4.7, 4.1, 3.3, 2.7),
        },
    },
    'max_rx_touch': {
        'title': 'Maximum received rate, every byte touched, burst 32, by frame size',
        'source': CLOSER20 + '; ' + CCIS21,
        'label': "CLOSER'20/CCIS'21, touch",
        'unit': 'Mpps',
        'sizes': STUDY_SIZES,
        'touch': True,
        'rows': {
            'SR-IOV': (16.14, 10.11, 6.26, 3.36, 1.76, 1.21),
            'basicfwd': (9.78, 7.46, 5.02, 2.99, 1.67, 1.16),
            'VPP': (9.02, 7.12, 4.95, 2.96, 1.67, 1.15),
            'VALE': (7.68, 7.29, 5.94, 3.31, 1.76, 1.23),
            'OVS-DPDK': (5.33, 4.91, 4.44, 2.99, 1.67, 1.15),
            'Snabb (learning)': (3.30, 3.15, 2.93, 2.60, 1.64, 1.16),
        },
    },
    'sockets': {
        'title': 'Kernel sockets over the Linux bridge, 64-byte frames',
        'source': VHPC19 + '; ' + CLOSER20,
        'unit': 'kpps',
        'size': 64,
        'columns': ("VHPC'19 (burst 64)", "CLOSER'20 (1 Mpps offered, burst 64)"),
        'rows': {
            'UDP send/recv': (227, 338),
            'UDP sendmmsg/recvmmsg': (276, 409),
            'raw send/recv': (471, 360),
            'raw mmsg': (594, 440),
        },
    },
    'scalability': {
        'title': 'Scalability, one host, total Gbit/s (10^9) for 1 / 2 / 4 pairs',
        'source': CLOSER20 + '; ' + CCIS21,
        'unit': 'Gbit/s',
        'pairs': (1, 2, 4),
        'sizes': (64, 1500),
        'rows': {
            'SR-IOV': ((8.26, 8.03, 8.04), (14.5, 28.5, 47.7)),
            'basicfwd': ((5.0, 5.0, 4.3), (13.9, 27.7, 21.9)),
            'VPP': ((4.6, 4.6, 3.8), (13.8, 22.1, 16.1)),
            'OVS-DPDK': ((2.7, 2.7, 2.4), (13.9, 27.7, 18.2)),
            'Snabb': ((1.7, 2.6, 1.6), (14.0, 25.6, 16.8)),
            'VALE': ((3.9, 7.8, 15.3), (14.7, 29.3, 58.5)),
        },
    },
    'rtt_mean': {
        'title': 'Mean round trip at 1000 pps offered, 64 B and 1500 B frames',
        'source': CLOSER20 + '; ' + CCIS21,
        'unit': 'us',
        'rate_pps': 1000,
        'sizes': (64, 1500),
        'note': 'two hosts, VALE: about 85 us at every size; Snabb: 60 us or more',
        'rows': (
            {'case': 'one host, burst 4', 'hosts': 1, 'burst': 4, 'values': {
                'basicfwd': (3.5, 12.4), 'OVS-DPDK': (5.5, 14.0), 'VPP': (5.3, 15.8), 'SR-IOV': (12.4, 33.7),
                'VALE': (5.3, 8.0)}},
            {'case': 'one host, burst 32', 'hosts': 1, 'burst': 32, 'values': {
                'basicfwd': (16.9, 84.5), 'OVS-DPDK': (24.9, 96.0), 'VPP': (19.5, 101.5), 'SR-IOV': (12.5, 50.5),
                'VALE': (14.7, 32.2)}},
            {'case': 'one host, burst 128', 'hosts': 1, 'burst': 128, 'values': {
                'basicfwd': (37.0, 197.0), 'OVS-DPDK': (44.0, 221.0), 'VPP': (57.0, 293.0), 'SR-IOV': (23.0, 148.0),
                'VALE': (45.0, 112.0)}},
            {'case': 'two hosts, burst 4', 'hosts': 2, 'burst': 4, 'values': {
                'OVS-DPDK': (40.0, 49.0), 'VPP': (28.0, 42.0), 'SR-IOV': (20.0, 38.0), 'VALE': (85.0, 85.0)}},
        ),
    },
}

# icperf backend over the Linux bridge -> the study's socket technique (table 'sockets')
STUDY_SOCKETS = {
    'udp': 'UDP send/recv',
    'udp-mmsg': 'UDP sendmmsg/recvmmsg',
    'raw': 'raw send/recv',
    'raw-mmsg': 'raw mmsg',
}
# the path the study measured its kernel sockets on (the registry has no key for it)
SOCKET_STUDY_PATH = 'linux_bridge'
# frame size of the kernel-vs-bypass comparison, and the study's finding at that size (VHPC'19)
BYPASS_SIZE = 64
BYPASS_STUDY = 'study (VHPC\'19, 64 B): kernel sockets under 1 Mpps, every bypass path over 5 Mpps'
