"""Which pairs are worth comparing: a union of blocks, so a registry of 100,000 is not 5·10⁹ pairs.

Two records are compared when they share any blocking key. The keys are chosen so that each
kind of error the office sees still leaves some key shared:

- the same ID number, mobile or e-mail (hashes, as stored);
- the name's sound (pinyin with 平翘舌/前后鼻音/n-l folded) with the birth year: homophone typos;
- the name's sound with one syllable left out, with the exact birth date: a one-character typo,
  a missing or an added character (张小伟 / 张晓华 share 张_; 张伟 / 张小伟 share 张伟);
- the same, with 籍贯 and gender instead of the birth date: a name typo and a date typo at once;
- the surname's sound with the exact birth date: two characters wrong.

A block larger than ``MAX_BLOCK`` (a shared switchboard number, the commonest names of a county)
is not expanded: its pairs would be mostly strangers, and its members still meet through their
other keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rencai.imports.dedupe.scoring import Prepared

MAX_BLOCK = 200


def keys_of(row: Prepared) -> Iterator[tuple]:
    record = row.record
    if record.id_card_hash:
        yield ("i", record.id_card_hash)
    if record.mobile_hash:
        yield ("m", record.mobile_hash)
    if row.email:
        yield ("e", row.email)
    sound = row.sound
    if not sound:
        return
    whole = " ".join(sound)
    year = row.birth[:4]
    if year:
        yield ("ny", whole, year)
    variants = {whole}
    if len(sound) >= 3:
        variants.update(" ".join(sound[:index] + sound[index + 1:]) for index in range(len(sound)))
    for variant in variants:
        if row.birth:
            yield ("vb", variant, row.birth)
        if record.native_place_id:
            yield ("vp", variant, record.native_place_id, record.gender)
    if row.birth:
        yield ("sb", sound[0], row.birth)


def blocks(rows: list[Prepared]) -> dict[tuple, list[int]]:
    """The positions in ``rows`` of the records that share each key (keys of one record dropped)."""
    index: dict[tuple, list[int]] = {}
    for position, row in enumerate(rows):
        for key in keys_of(row):
            members = index.get(key)
            if members is None:
                index[key] = [position]
            else:
                members.append(position)
    return {key: members for key, members in index.items() if len(members) > 1}


def candidate_pairs(rows: list[Prepared], max_block: int = MAX_BLOCK) -> set[int]:
    """Pairs of positions (encoded ``i * n + j`` with ``i < j``, to keep the set small)."""
    n = len(rows)
    pairs: set[int] = set()
    add = pairs.add
    for members in blocks(rows).values():
        if len(members) > max_block:
            continue
        for x, i in enumerate(members):
            base = i * n
            for j in members[x + 1:]:
                add(base + j if i < j else j * n + i)
    return pairs


def decode(pairs: Iterable[int], n: int) -> Iterator[tuple[int, int]]:
    for code in pairs:
        yield divmod(code, n)
