"""The Triple and Quadruple Helix synergy indicator (mutual information in bits), checked by hand."""

from __future__ import annotations

import math

import pytest

from ecosystem.analysis.synergy import entropy_bits, project_helix_sets, synergy

LOG2_3 = math.log2(3)


def test_four_projects_worked_by_hand_give_t_uig_and_t_uigc() -> None:
    """Four consortia, variables u (academia), i (industry), g (government), c (civil society):

        P1 = {academia, industry}      -> u i g c = 1 1 0 0
        P2 = {academia, government}    -> 1 0 1 0
        P3 = {industry, government}    -> 0 1 1 0
        P4 = {government, civil}       -> 0 0 1 1

    Single variables (p = share of projects holding the helix; H(p) = -p log2 p - (1-p) log2 (1-p)):
        H(u) = H(1/2) = 1, H(i) = 1, H(g) = H(3/4) = 2 - (3/4) log2 3 ~ 0.811278, H(c) = H(1/4) = H(3/4).
    Pairs (joint patterns over the four projects):
        ui: 11 10 01 00 -> all different            -> H = 2
        ug: 10 11 01 01 -> {10, 11, 01 x2}          -> H = 1/4*2 + 1/4*2 + 1/2*1 = 1.5
        ig: 10 01 11 01 -> {10, 11, 01 x2}          -> 1.5
        uc: 10 10 00 01, ic: 10 00 10 01, gc: 00 10 10 11 -> each one pattern twice -> 1.5 each
    Triples uig, uic, ugc, igc and the quadruple: the four projects all differ -> H = 2 each.

    T(uig)  = H(u)+H(i)+H(g) - H(ui)-H(ug)-H(ig) + H(uig)
            = 1 + 1 + (2 - 0.75 log2 3) - (2 + 1.5 + 1.5) + 2 = 1 - 0.75 log2 3 ~ -0.188722 (synergy)
    T(uigc) = [1 + 1 + 2 H(3/4)] - [2 + 5 x 1.5] + [4 x 2] - 2
            = 2 + 4 - 1.5 log2 3 - 9.5 + 8 - 2 = 2.5 - 1.5 log2 3 ~ 0.122556
    R(uigc) = -T(uigc) ~ -0.122556: in four dimensions the mutual redundancy shows the synergy.
    """
    result = synergy([{"academia", "industry"}, {"academia", "government"}, {"industry", "government"},
                      {"government", "civil_society"}])
    assert result.projects == 4
    assert result.t_uig == pytest.approx(1 - 0.75 * LOG2_3, abs=1e-9)
    assert result.t_uig == pytest.approx(-0.188722, abs=1e-6)
    assert result.t_uigc == pytest.approx(2.5 - 1.5 * LOG2_3, abs=1e-9)
    assert result.r_uigc == pytest.approx(-(2.5 - 1.5 * LOG2_3), abs=1e-9)


def test_three_helix_value_is_the_alternating_sum_of_entropies() -> None:
    projects = [{"academia"}, {"academia", "industry"}, {"industry", "government"}, {"academia", "government"},
                {"academia", "industry", "government"}, set()]
    rows = [tuple(h in p for h in ("academia", "industry", "government")) for p in projects]

    def h(*dims: int) -> float:
        counts: dict[tuple[bool, ...], int] = {}
        for r in rows:
            key = tuple(r[d] for d in dims)
            counts[key] = counts.get(key, 0) + 1
        return entropy_bits(counts.values())

    expected = h(0) + h(1) + h(2) - h(0, 1) - h(0, 2) - h(1, 2) + h(0, 1, 2)
    assert synergy(projects).t_uig == pytest.approx(expected, abs=1e-12)


def test_independent_helices_carry_no_mutual_information() -> None:
    every_combination = [{h for h, present in zip(("academia", "industry", "government"), bits) if present}
                         for bits in ((a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1))]
    result = synergy(every_combination)
    assert result.t_uig == 0.0
    assert result.t_uigc == 0.0


def test_identical_consortia_have_no_uncertainty_to_reduce() -> None:
    result = synergy([{"academia", "industry"}] * 5)
    assert (result.t_uig, result.t_uigc, result.r_uigc) == (0.0, 0.0, 0.0)


def test_no_projects_give_no_indicator() -> None:
    assert synergy([]).as_dict() == {"projects": 0, "t_uig": None, "t_uigc": None, "r_uigc": None}


def test_unknown_helix_is_not_a_dimension() -> None:
    with_unknown = synergy([{"academia", "unknown"}, {"industry"}, {"government", "academia"}])
    without = synergy([{"academia"}, {"industry"}, {"government", "academia"}])
    assert with_unknown == without


def test_entropy_of_a_fair_coin_is_one_bit() -> None:
    assert entropy_bits([5, 5]) == pytest.approx(1.0)
    assert entropy_bits([]) == 0.0


def test_project_helix_sets_keep_region_members_or_whole_consortia() -> None:
    participations = [("p1", "a"), ("p1", "b"), ("p2", "b"), ("p2", "c"), ("p3", "c")]
    helix = {"a": "academia", "b": "industry", "c": "government"}
    assert project_helix_sets(participations, helix) == {
        "p1": frozenset({"academia", "industry"}), "p2": frozenset({"industry", "government"}),
        "p3": frozenset({"government"})}
    assert project_helix_sets(participations, helix, members={"a"}) == {"p1": frozenset({"academia"})}
    assert project_helix_sets(participations, helix, members={"a"}, whole_consortium=True) == {
        "p1": frozenset({"academia", "industry"})}
