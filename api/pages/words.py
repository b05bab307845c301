"""Sentences the pages build from service data, in the page language: helix evidence, partner reasons, places."""

from __future__ import annotations

from typing import Any

from api.pages.i18n import Translator

TERM_KEYS = {"shared_topics": "reason.topics", "shared_programme_parts": "reason.parts",
             "shared_programmes": "reason.programmes"}


def join_names(t: Translator, names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' in the page language."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " " + t("word.and") + " " + names[-1]


def evidence_sentence(t: Translator, item: dict[str, Any]) -> str:
    """One piece of helix evidence said in words."""
    return t("evidence.sentence", source=item.get("source") or "?", field=item.get("field") or "?",
             value=item.get("value") or "?", helix=t.helix(item.get("helix")),
             confidence=t.pct(item.get("confidence")))


def place_relation(org_nuts3: str | None, org_country: str | None, cand: dict[str, Any]) -> str | None:
    """How close a candidate is: the message key of the smallest region both share, or None."""
    theirs = cand.get("nuts3") or ""
    ours = org_nuts3 or ""
    for length, key in ((5, "reason.geo_nuts3"), (4, "reason.geo_nuts2"), (3, "reason.geo_nuts1")):
        if ours and len(theirs) >= length and ours[:length] == theirs[:length]:
            return key
    if org_country and cand.get("country") == org_country:
        return "reason.geo_country"
    return "reason.geo_rural_abroad" if cand.get("urban_rural") == "rural" else None


def partner_reasons(t: Translator, cand: dict[str, Any], org: dict[str, Any]) -> list[dict[str, Any]]:
    """A recommendation's reasons as sentences; each is {"text", "links"} (links: partners named, with ids)."""
    data = cand.get("reason_data", {})
    out: list[dict[str, Any]] = []
    named = data.get("shared_partners") or []
    if named:
        count = int(data.get("shared_partner_count", len(named)))
        key = "reason.one_shared_partner" if count == 1 else "reason.shared_partners"
        more = count - len(named)
        out.append({"text": t(key, count=t.num(count)), "links": [partner_link(t, p) for p in named],
                    "more": t("reason.and_more", count=t.num(more)) if more > 0 else ""})
    for data_key, msg in TERM_KEYS.items():
        if data.get(data_key):
            out.append({"text": t(msg, values=", ".join(data[data_key])), "links": [], "more": ""})
    if data.get("fills_helix"):
        out.append({"text": t("reason.fills_helix", helix=t.helix(data["fills_helix"])), "links": [], "more": ""})
    if data.get("geography"):
        loc = org.get("location", {})
        geo = place_relation(loc.get("nuts3"), org.get("country"), cand)
        if geo:
            out.append({"text": t(geo, type=t.urban_rural(cand.get("urban_rural")), nuts3=cand.get("nuts3") or "",
                                  country=cand.get("country") or ""), "links": [], "more": ""})
    recent = data.get("recent_activity")
    if recent:
        out.append({"text": t("reason.recent", count=t.num(recent["projects"]), first=recent["years"][0],
                              last=recent["years"][1]), "links": [], "more": ""})
    pair = data.get("country_affinity")
    if pair:
        out.append({"text": t("reason.country_affinity", a=pair["countries"][0], b=pair["countries"][1],
                              times=t.num(pair["times_expected"], 1)), "links": [], "more": ""})
    if data.get("favoured"):
        kinds = [t("reason.favoured_rural") if f == "rural" else t("reason.favoured_civil") for f in data["favoured"]]
        out.append({"text": t("reason.favoured", kinds=join_names(t, kinds)), "links": [], "more": ""})
    if "projects" in data:
        out.append({"text": t("reason.projects", count=t.num(data["projects"])), "links": [], "more": ""})
    out.extend(basis_sentence(t, data))
    return out


def basis_sentence(t: Translator, data: dict[str, Any]) -> list[dict[str, Any]]:
    """For an organisation with few projects: on what a suggestion rests (none otherwise)."""
    basis = data.get("basis")
    if not basis:
        return []
    what = join_names(t, [t(f"partners.basis_{k}") for k in basis["rests_on"]]) or t("partners.basis_activity")
    return [{"text": t("partners.basis", count=t.num(basis["your_projects"]), what=what), "links": [], "more": ""}]


def partner_link(t: Translator, partner: dict[str, Any]) -> dict[str, Any]:
    """A shared partner as a link: its name where known, else its identifier with its helix and place."""
    if partner.get("name") and partner["name"] != partner["id"]:
        return partner
    place = partner.get("place") or t("partners.place_unknown")
    return {**partner, "name": f"{partner['id']} ({t.helix(partner.get('helix') or 'unknown')}, {place})"}


def ei_sentence(t: Translator, ei: dict[str, Any], attribute: str) -> str:
    """What an E-I index says, in one sentence."""
    value = ei.get("ei")
    if value is None:
        return t("region.ei_none")
    side = "region.ei_outward" if value > 0.1 else "region.ei_inward" if value < -0.1 else "region.ei_balanced"
    return t(side, attribute=t(f"region.ei_attr_{attribute}"), value=t.num(value, 2))


def synergy_sentence(t: Translator, synergy: dict[str, Any]) -> str:
    """What the helix synergy indicator says, in one sentence."""
    value = synergy.get("r_uigc")
    if value is None or not synergy.get("projects"):
        return t("region.synergy_none")
    key = "region.synergy_yes" if value < -0.0001 else "region.synergy_no"
    return t(key, value=t.num(value, 3), projects=t.num(synergy["projects"]))


def stability_sentence(t: Translator, stability: dict[str, Any]) -> str:
    """How stable the clustering is, in one sentence: agreement between runs under different seeds."""
    runs, mean, low = len(stability.get("seeds", [])), stability.get("ari_mean"), stability.get("ari_min")
    if runs < 2 or mean is None or low is None:
        return t("clusters.stability_none")
    key = ("clusters.stability_high" if low >= 0.9 else "clusters.stability_medium" if low >= 0.7
           else "clusters.stability_low")
    return t(key, runs=t.num(runs), mean=t.num(mean, 2), low=t.num(low, 2))
