"""The console's own RFC 9162 verifier (plain JavaScript in Chromium) against the server's
tree: every inclusion and consistency proof of trees up to 17 leaves verifies, and each one
with a changed hash, index or size does not — the same answers as `infrastructure.proofs`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from infrastructure.merkle import MerkleLog, leaf_hash
from infrastructure.proofs import verify_consistency, verify_inclusion
from tests.e2e.test_dashboard_browser import browser_options, start_browser

SCRIPT = Path(__file__).parents[2] / "api" / "static" / "audit-console.js"
LEAVES = 17
RUN = """
const [kind, cases, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const hex = (h) => fromHex(h);
(async () => {
  const answers = [];
  for (const c of cases) {
    answers.push(kind === "inclusion"
      ? await verifyInclusion(hex(c.leaf), c.index, c.size, c.proof.map(hex), hex(c.root))
      : await verifyConsistency(c.first, c.second, hex(c.first_root), hex(c.second_root),
                                c.proof.map(hex)));
  }
  return answers;
})().then(done, (e) => done(String(e)));
"""


@pytest.fixture
def page(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = start_browser(browser_options(tmp_path))
    html = tmp_path / "console.html"
    html.write_text(f"<!doctype html><script>{SCRIPT.read_text(encoding='utf-8')}</script>")
    driver.get(html.as_uri())
    yield driver
    driver.quit()


def tree() -> MerkleLog:
    log = MerkleLog()
    for number in range(LEAVES):
        log.append(leaf_hash(f"leaf {number}".encode()))
    return log


def flipped(proof: list[bytes]) -> list[bytes]:
    return [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]] if proof else [b"\x00" * 32]


def test_inclusion_proofs_verify_in_the_browser_exactly_when_they_do_in_python(
    page: webdriver.Chrome,
) -> None:
    log = tree()
    cases = []
    for size in range(1, LEAVES + 1):
        root = log.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            leaf = log.leaf(index)
            for changed_index, changed_proof in (
                (index, proof),
                (index, flipped(proof)),
                ((index + 1) % size, proof),
                (index, proof[:-1]),
            ):
                cases.append((leaf, changed_index, size, changed_proof, root))
    answers = page.execute_async_script(
        RUN,
        "inclusion",
        [
            {
                "leaf": lf.hex(),
                "index": i,
                "size": n,
                "proof": [p.hex() for p in pr],
                "root": r.hex(),
            }
            for lf, i, n, pr, r in cases
        ],
    )
    expected = [verify_inclusion(lf, i, n, pr, r) for lf, i, n, pr, r in cases]
    assert answers == expected
    genuine = [pr == log.inclusion_proof(i, n) and lf == log.leaf(i) for lf, i, n, pr, r in cases]
    assert expected == genuine  # every genuine proof verifies, every changed one does not


def test_consistency_proofs_verify_in_the_browser_exactly_when_they_do_in_python(
    page: webdriver.Chrome,
) -> None:
    log = tree()
    cases = []
    for second in range(1, LEAVES + 1):
        for first in range(second + 1):
            proof = log.consistency_proof(first, second)
            first_root, second_root = log.root(first), log.root(second)
            cases.append((first, second, first_root, second_root, proof, True))
            if 0 < first < second:
                cases.append((first, second, first_root, second_root, flipped(proof), False))
                cases.append((first, second, second_root, first_root, proof, False))
    answers = page.execute_async_script(
        RUN,
        "consistency",
        [
            {
                "first": m,
                "second": n,
                "first_root": a.hex(),
                "second_root": b.hex(),
                "proof": [p.hex() for p in pr],
            }
            for m, n, a, b, pr, _ in cases
        ],
    )
    expected = [verify_consistency(m, n, a, b, pr) for m, n, a, b, pr, _ in cases]
    assert answers == expected
    assert expected == [genuine for *_, genuine in cases]
