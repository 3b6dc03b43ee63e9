"""The lab's KQL evaluator: each operator and function, the semantics that bite, errors with positions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kit.errors import LabError
from kit.lab.kql import KqlError, KqlResult, evaluate

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _vm(name: str, rg: str, location: str, os: str, power: str, *, disable_password: bool | None = None,
        tags: dict[str, str] | None = None, security: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "storageProfile": {"osDisk": {"osType": os}},
        "extended": {"instanceView": {"powerState": {"code": f"PowerState/{power}"}}},
        "osProfile": {},
    }
    if disable_password is not None:
        properties["osProfile"]["linuxConfiguration"] = {"disablePasswordAuthentication": disable_password}
    if security:
        properties["securityProfile"] = {"securityType": security}
    return {"id": f"/subscriptions/s1/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
            "name": name, "type": "microsoft.compute/virtualmachines", "location": location, "resourceGroup": rg,
            "tags": tags or {}, "zones": None, "properties": properties}


VMS = [
    _vm("web-01", "RG-Web", "eastus", "Linux", "running", disable_password=True, tags={"env": "prod"}),
    _vm("web-02", "RG-Web", "eastus", "Linux", "deallocated", disable_password=False, tags={"env": "prod"}),
    _vm("db-01", "rg-data", "westeurope", "Windows", "running", tags={"env": "test"}, security="TrustedLaunch"),
    _vm("Db-02", "rg-data", "westeurope", "Windows", "stopped", security="ConfidentialVM"),
    _vm("batch-worker", "rg-batch", "northeurope", "Linux", "running", disable_password=True),
]
EXTENSIONS = [
    {"id": VMS[0]["id"] + "/extensions/AzureDiskEncryptionForLinux", "name": "AzureDiskEncryptionForLinux",
     "type": "microsoft.compute/virtualmachines/extensions",
     "properties": {"publisher": "Microsoft.Azure.Security", "type": "AzureDiskEncryptionForLinux"}},
    {"id": VMS[2]["id"] + "/extensions/AzureMonitorWindowsAgent", "name": "AzureMonitorWindowsAgent",
     "type": "microsoft.compute/virtualmachines/extensions",
     "properties": {"publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorWindowsAgent"}},
]
TABLES = {"Resources": VMS + EXTENSIONS,
          "Heartbeat": [{"Computer": "web-01", "TimeGenerated": NOW - dt.timedelta(minutes=5), "Count": 3},
                        {"Computer": "web-01", "TimeGenerated": NOW - dt.timedelta(hours=3), "Count": 1},
                        {"Computer": "db-01", "TimeGenerated": NOW - dt.timedelta(days=2), "Count": 7}]}


def run(query: str, tables: dict[str, Any] | None = None) -> KqlResult:
    return evaluate(query, TABLES if tables is None else tables, now=NOW)


def column(query: str, name: str) -> list[Any]:
    return [row[name] for row in run(query).rows]


def names(query: str) -> list[str]:
    return column(query, "name")


VM_ONLY = "resources | where type == 'microsoft.compute/virtualmachines'"


# -- the result shape --------------------------------------------------------------------------
def test_result_has_typed_columns_and_rows_in_column_order() -> None:
    result = run(VM_ONLY + " | project name, location, properties, n = 1 | take 1")
    assert result.columns == (("name", "string"), ("location", "string"), ("properties", "dynamic"), ("n", "long"))
    assert list(result.rows[0]) == ["name", "location", "properties", "n"]


def test_table_names_match_case_insensitively() -> None:
    assert run("RESOURCES | count").rows == run("resources | count").rows == ({"Count": 7},)


def test_project_of_a_dynamic_path_is_named_with_underscores() -> None:
    result = run(VM_ONLY + " | project properties.storageProfile.osDisk.osType | take 1")
    assert result.columns == (("properties_storageProfile_osDisk_osType", "dynamic"),)
    assert result.rows[0]["properties_storageProfile_osDisk_osType"] == "Linux"


# -- where and the comparisons -----------------------------------------------------------------
def test_double_equals_is_case_sensitive_on_strings_and_tilde_is_not() -> None:
    assert names(VM_ONLY + " | where name == 'db-02'") == []
    assert names(VM_ONLY + " | where name =~ 'db-02'") == ["Db-02"]
    assert names(VM_ONLY + " | where type =~ 'Microsoft.Compute/virtualMachines' and name !~ 'DB-02'") == [
        "web-01", "web-02", "db-01", "batch-worker"]
    assert "Db-02" in names(VM_ONLY + " | where name != 'db-02'")


def test_has_matches_whole_terms_only_and_contains_any_substring() -> None:
    assert names(VM_ONLY + " | where name has 'web'") == ["web-01", "web-02"]
    assert names(VM_ONLY + " | where name has 'we'") == []
    assert names(VM_ONLY + " | where name contains 'we'") == ["web-01", "web-02"]
    assert names(VM_ONLY + " | where name has 'WORKER'") == ["batch-worker"]
    assert names(VM_ONLY + " | where name has_cs 'WORKER'") == []
    assert names(VM_ONLY + " | where name !has 'web'") == ["db-01", "Db-02", "batch-worker"]
    assert names(VM_ONLY + " | where name contains_cs 'DB'") == []


def test_startswith_endswith_and_regex() -> None:
    assert names(VM_ONLY + " | where name startswith 'DB'") == ["db-01", "Db-02"]
    assert names(VM_ONLY + " | where name endswith '-01'") == ["web-01", "db-01"]
    assert names(VM_ONLY + " | where name !startswith 'web'") == ["db-01", "Db-02", "batch-worker"]
    assert names(VM_ONLY + " | where name matches regex '^[a-z]+-[0-9]+$'") == ["web-01", "web-02", "db-01"]


def test_in_is_case_sensitive_and_in_tilde_is_not() -> None:
    assert names(VM_ONLY + " | where name in ('web-01', 'db-02')") == ["web-01"]
    assert names(VM_ONLY + " | where name in~ ('web-01', 'db-02')") == ["web-01", "Db-02"]
    assert names(VM_ONLY + " | where name !in ('web-01', 'web-02', 'db-01')") == ["Db-02", "batch-worker"]
    assert names(VM_ONLY + " | where location in (dynamic(['northeurope']))") == ["batch-worker"]


def test_has_any_and_has_all() -> None:
    assert names(VM_ONLY + " | where name has_any ('batch', 'db')") == ["db-01", "Db-02", "batch-worker"]
    assert names(VM_ONLY + " | where name has_all ('batch', 'worker')") == ["batch-worker"]


def test_comparisons_with_null_drop_the_row() -> None:
    query = VM_ONLY + " | where properties.osProfile.linuxConfiguration.disablePasswordAuthentication == false"
    assert names(query) == ["web-02"]
    query = VM_ONLY + " | where properties.osProfile.linuxConfiguration.disablePasswordAuthentication != true"
    assert names(query) == ["web-02"]
    assert names(VM_ONLY + " | where properties.nothing.here > 3") == []


def test_dynamic_values_compare_with_scalars() -> None:
    assert names(VM_ONLY + " | where properties.securityProfile.securityType == 'ConfidentialVM'") == ["Db-02"]
    assert names(VM_ONLY + " | where properties.storageProfile.osDisk.osType =~ 'windows'") == ["db-01", "Db-02"]
    assert names(VM_ONLY + " | where tags.env == 'prod' and tags['env'] == 'prod'") == ["web-01", "web-02"]


def test_and_binds_tighter_than_or_and_not_negates() -> None:
    query = VM_ONLY + " | where location == 'eastus' or location == 'westeurope' and name == 'db-01'"
    assert names(query) == ["web-01", "web-02", "db-01"]
    assert names(VM_ONLY + " | where not(location == 'eastus')") == ["db-01", "Db-02", "batch-worker"]


def test_null_and_empty_tests() -> None:
    assert names(VM_ONLY + " | where isnull(properties.securityProfile)") == ["web-01", "web-02", "batch-worker"]
    assert names(VM_ONLY + " | where isnotnull(properties.securityProfile)") == ["db-01", "Db-02"]
    assert names(VM_ONLY + " | where isempty(tostring(tags.env))") == ["Db-02", "batch-worker"]
    assert names(VM_ONLY + " | where isnotempty(tags.env)") == ["web-01", "web-02", "db-01"]


def test_datetimes_ago_now_and_between() -> None:
    heartbeat = "Heartbeat | where TimeGenerated > ago(1h) | project Computer"
    assert column(heartbeat, "Computer") == ["web-01"]
    assert column("Heartbeat | where TimeGenerated between (ago(1d) .. now()) | project Computer", "Computer") == [
        "web-01", "web-01"]
    assert column("Heartbeat | where TimeGenerated < datetime(2026-02-28) | project Count", "Count") == [7]
    assert column("Heartbeat | where Count between (2 .. 7) | project Count", "Count") == [3, 7]
    assert column("Heartbeat | where Count !between (2 .. 3) | project Count", "Count") == [1, 7]
    result = run("Heartbeat | extend age = now() - TimeGenerated | project age | take 1")
    assert result.columns == (("age", "timespan"),) and result.rows[0]["age"] == dt.timedelta(minutes=5)


def test_datetime_compares_with_iso_text_in_the_rows() -> None:
    tables = {"T": [{"when": "2026-03-01T11:30:00Z"}, {"when": "2026-02-01T00:00:00Z"}]}
    result = evaluate("T | where todatetime(when) > ago(1h)", tables, now=NOW)
    assert result.rows == ({"when": "2026-03-01T11:30:00Z"},)


# -- functions ---------------------------------------------------------------------------------
def test_conversions() -> None:
    result = run("resources | take 1 | project a = tostring(properties.extended), b = toint('42'), "
                 "c = tolong('x'), d = tobool('TRUE'), e = todouble('1.5'), f = todatetime('2026-01-02'), "
                 "g = tostring(true), h = tostring(null), i = tostring(12)")
    row = result.rows[0]
    assert row["a"] == '{"instanceView":{"powerState":{"code":"PowerState/running"}}}'
    assert (row["b"], row["c"], row["d"], row["e"]) == (42, None, True, 1.5)
    assert row["f"] == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert (row["g"], row["h"], row["i"]) == ("true", "", "12")
    assert dict(result.columns)["b"] == "int" and dict(result.columns)["f"] == "datetime"


def test_string_functions() -> None:
    row = run("resources | take 1 | project a = tolower('AbC'), b = toupper(name), c = strcat(name, '@', location), "
              "d = split(id, '/')[7], e = extract('virtualMachines/([^/]+)', 1, id), f = strlen(name), "
              "g = substring(name, 4), h = replace_string(name, '-', '_'), i = split('a,b', ',')").rows[0]
    assert row == {"a": "abc", "b": "WEB-01", "c": "web-01@eastus", "d": "virtualMachines", "e": "web-01", "f": 6,
                   "g": "01", "h": "web_01", "i": ["a", "b"]}


def test_conditionals_and_coalesce() -> None:
    query = (VM_ONLY + " | project name, power = iff(properties.extended.instanceView.powerState.code == "
             "'PowerState/running', 'up', 'down'), kind = case(location == 'eastus', 'us', location == 'westeurope', "
             "'eu', 'other'), sec = coalesce(tostring(properties.securityProfile.securityType), 'Standard')")
    rows = run(query).rows
    assert [row["power"] for row in rows] == ["up", "down", "up", "down", "up"]
    assert [row["kind"] for row in rows] == ["us", "us", "eu", "eu", "other"]
    assert [row["sec"] for row in rows] == ["Standard", "Standard", "TrustedLaunch", "ConfidentialVM", "Standard"]
    assert column(VM_ONLY + " | project x = iif(name == 'web-01', 1, 0)", "x") == [1, 0, 0, 0, 0]


def test_dynamic_access_arrays_and_bags() -> None:
    tables = {"T": [{"d": {"a": {"b": [10, 20, 30]}, "k": 1}}]}
    row = evaluate("T | project x = d.a.b[0], y = d['a']['b'][-1], z = array_length(d.a.b), k = bag_keys(d), "
                   "j = parse_json('{\"p\": [1]}').p[0], m = todynamic('[5]')[0], none = d.a.b[9]", tables).rows[0]
    assert row == {"x": 10, "y": 30, "z": 3, "k": ["a", "k"], "j": 1, "m": 5, "none": None}


def test_literals() -> None:
    row = run("resources | take 1 | project a = 1d + 2h, b = datetime(2026-01-01T10:00:00Z), c = dynamic({'x': 1}), "
              "d = @'C:\\temp', e = \"it's\", f = 1.5, g = timespan(01:30:00), h = -3").rows[0]
    assert row["a"] == dt.timedelta(days=1, hours=2)
    assert row["b"] == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    assert row["c"] == {"x": 1}
    assert (row["d"], row["e"], row["f"], row["g"], row["h"]) == ("C:\\temp", "it's", 1.5,
                                                                  dt.timedelta(hours=1, minutes=30), -3)


# -- tabular operators ------------------------------------------------------------------------
def test_extend_keeps_columns_and_adds_new_ones() -> None:
    result = run(VM_ONLY + " | extend os = tostring(properties.storageProfile.osDisk.osType) | take 1")
    assert [name for name, _ in result.columns][-1] == "os"
    assert result.rows[0]["os"] == "Linux" and result.rows[0]["name"] == "web-01"


def test_project_away_and_rename_and_keep() -> None:
    result = run(VM_ONLY + " | project-away properties, tags, zones | take 1")
    assert [name for name, _ in result.columns] == ["id", "name", "type", "location", "resourceGroup"]
    result = run(VM_ONLY + " | project-rename vm = name | project-keep vm, res* | take 1")
    assert result.rows[0] == {"vm": "web-01", "resourceGroup": "RG-Web"}


def test_summarize_aggregations() -> None:
    result = run(VM_ONLY + " | summarize n = count(), running = countif(properties.extended.instanceView.powerState."
                 "code == 'PowerState/running'), places = dcount(location), groups = make_set(resourceGroup), "
                 "any_name = any(name) by os = tostring(properties.storageProfile.osDisk.osType) | order by os asc")
    assert result.rows == (
        {"os": "Linux", "n": 3, "running": 2, "places": 2, "groups": ["RG-Web", "rg-batch"], "any_name": "web-01"},
        {"os": "Windows", "n": 2, "running": 1, "places": 1, "groups": ["rg-data"], "any_name": "db-01"},
    )
    assert dict(result.columns)["n"] == "long" and dict(result.columns)["groups"] == "dynamic"


def test_summarize_default_names_and_empty_input() -> None:
    result = run(VM_ONLY + " | summarize count(), dcount(location), make_set(location) by resourceGroup")
    assert [name for name, _ in result.columns] == ["resourceGroup", "count_", "dcount_location", "set_location"]
    assert run(VM_ONLY + " | where name == 'none' | summarize count()").rows == ({"count_": 0},)
    assert run(VM_ONLY + " | where name == 'none' | summarize count() by location").rows == ()


def test_summarize_arg_max_returns_the_latest_row() -> None:
    result = run("Heartbeat | summarize arg_max(TimeGenerated, *) by Computer | order by Computer asc")
    assert result.rows == (
        {"Computer": "db-01", "TimeGenerated": NOW - dt.timedelta(days=2), "Count": 7},
        {"Computer": "web-01", "TimeGenerated": NOW - dt.timedelta(minutes=5), "Count": 3},
    )
    result = run("Heartbeat | summarize arg_min(TimeGenerated, Count) by Computer | order by Computer asc")
    assert [row["Count"] for row in result.rows] == [7, 1]


def test_summarize_by_bin_and_numbers() -> None:
    result = run("Heartbeat | summarize total = sum(Count), top = max(Count), low = min(Count), mean = avg(Count) "
                 "by bin(TimeGenerated, 1d) | order by TimeGenerated asc")
    assert [row["total"] for row in result.rows] == [7, 4]
    assert result.rows[1] == {"TimeGenerated": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "total": 4, "top": 3,
                              "low": 1, "mean": 2.0}


def test_order_defaults_to_descending_and_sorts_strings_by_ordinal() -> None:
    assert names(VM_ONLY + " | order by name") == ["web-02", "web-01", "db-01", "batch-worker", "Db-02"]
    assert names(VM_ONLY + " | sort by location asc, name desc") == ["web-02", "web-01", "batch-worker", "db-01",
                                                                      "Db-02"]


def test_order_puts_nulls_last_descending_and_first_ascending() -> None:
    query = VM_ONLY + " | extend s = properties.securityProfile.securityType | order by s {} | project name"
    assert names(query.format("desc"))[-3:] == ["web-01", "web-02", "batch-worker"]
    assert names(query.format("asc"))[:3] == ["web-01", "web-02", "batch-worker"]
    assert names(query.format("asc nulls last"))[:2] == ["Db-02", "db-01"]


def test_take_limit_top_distinct_count() -> None:
    assert len(run("resources | take 2").rows) == 2
    assert len(run("resources | limit 3").rows) == 3
    assert names(VM_ONLY + " | top 2 by name asc") == ["Db-02", "batch-worker"]
    assert run(VM_ONLY + " | distinct location | order by location asc").rows == (
        {"location": "eastus"}, {"location": "northeurope"}, {"location": "westeurope"})
    assert len(run(VM_ONLY + " | project location, resourceGroup | distinct *").rows) == 3
    assert run(VM_ONLY + " | where location == 'eastus' | count").rows == ({"Count": 2},)


def test_mv_expand_arrays_and_bags() -> None:
    tables = {"T": [{"k": "a", "v": [1, 2]}, {"k": "b", "v": []}, {"k": "c", "v": {"x": 1, "y": 2}}]}
    result = evaluate("T | mv-expand v", tables)
    assert [(row["k"], row["v"]) for row in result.rows] == [("a", 1), ("a", 2), ("c", {"x": 1}), ("c", {"y": 2})]
    result = evaluate("T | mv-expand item = v to typeof(long) limit 1 | project k, item", tables)
    assert result.rows == ({"k": "a", "item": 1}, {"k": "c", "item": None})  # a cast: a bag is no long
    assert dict(result.columns)["item"] == "long"
    result = evaluate("T | where k == 'c' | mv-expand kind=array with_itemindex=i v | project i, v", tables)
    assert result.rows == ({"i": 0, "v": ["x", 1]}, {"i": 1, "v": ["y", 2]})
    nulls = evaluate("T | extend v = iff(k == 'a', v, dynamic(null)) | mv-expand v | project k, v", tables)
    assert nulls.rows == ({"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": None}, {"k": "c", "v": None})


def test_join_leftouter_inner_and_key_collision() -> None:
    query = (VM_ONLY + " | extend vmId = tolower(id) | join kind=leftouter (resources | where type == "
             "'microsoft.compute/virtualmachines/extensions' | extend vmId = tolower(tostring(split(id, "
             "'/extensions/')[0])) | project vmId, ext = tostring(properties.type)) on vmId | project name, ext, vmId1")
    rows = run(query).rows
    assert [row["ext"] for row in rows] == ["AzureDiskEncryptionForLinux", None, "AzureMonitorWindowsAgent", None,
                                            None]
    assert rows[0]["vmId1"] == rows[0]["vmId1"].lower() and rows[1]["vmId1"] is None
    inner = query.replace("kind=leftouter", "kind=inner")
    assert [row["name"] for row in run(inner).rows] == ["web-01", "db-01"]


def test_join_on_left_and_right_columns_and_innerunique_default() -> None:
    tables = {"L": [{"k": 1, "a": "x"}, {"k": 1, "a": "y"}, {"k": 2, "a": "z"}],
              "R": [{"key": 1, "b": "r1"}, {"key": 1, "b": "r2"}, {"key": None, "b": "null"}]}
    unique = evaluate("L | join (R) on $left.k == $right.key", tables).rows
    assert [(row["a"], row["b"]) for row in unique] == [("x", "r1"), ("x", "r2")]
    inner = evaluate("L | join kind=inner R on $left.k == $right.key", tables).rows
    assert [(row["a"], row["b"]) for row in inner] == [("x", "r1"), ("x", "r2"), ("y", "r1"), ("y", "r2")]
    anti = evaluate("L | join kind=leftanti R on $left.k == $right.key", tables).rows
    assert anti == ({"k": 2, "a": "z"},)


def test_let_statements() -> None:
    query = ("let wanted = dynamic(['eastus']); let vms = resources | where type == "
             "'microsoft.compute/virtualmachines';\nvms | where location in (wanted) | project name")
    assert names(query) == ["web-01", "web-02"]


def test_comments_and_newlines_are_ignored() -> None:
    query = "// find the running ones\nresources\n| where type == 'microsoft.compute/virtualmachines' // VMs\n| count"
    assert run(query).rows == ({"Count": 5},)


def test_rows_are_not_mutated() -> None:
    before = repr(TABLES)
    run(VM_ONLY + " | extend x = 1 | project-rename y = x | mv-expand tags | summarize count() by name")
    assert repr(TABLES) == before


def test_ten_thousand_rows_give_the_same_answer_as_python() -> None:
    rows = [{"name": f"vm{index}", "n": index % 13, "tags": {"team": f"t{index % 7}"}} for index in range(10_000)]
    result = evaluate("T | where n > 3 and tostring(tags.team) in ('t1', 't2') | summarize c = count() by n "
                      "| order by n asc", {"T": rows})
    expected: dict[int, int] = {}
    for row in rows:
        if row["n"] > 3 and row["tags"]["team"] in ("t1", "t2"):
            expected[row["n"]] = expected.get(row["n"], 0) + 1
    assert [(row["n"], row["c"]) for row in result.rows] == sorted(expected.items())


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "code", "line", "col"), [
    ("resources | where", "ParserFailure", 1, 18),
    ("resources\n| where name ==", "ParserFailure", 2, 16),
    ("resources | where name == 'open", "ParserFailure", 1, 27),
    ("resources | parse name with x", "UnsupportedOperator", 1, 13),
    ("resources | render timechart", "UnsupportedOperator", 1, 13),
    ("nothere | take 1", "UnknownTable", 1, 1),
    ("resources\n  | where nosuch == 1", "UnknownColumn", 2, 11),
    ("resources | project nosuchfn(name)", "UnknownFunction", 1, 21),
    ("resources | take 1 | project x = count()", "InvalidArgument", 1, 34),
    ("resources | join kind=fullouter (resources) on id", "UnsupportedOperator", 1, 23),
    ("resources | project tostring(name, 1)", "InvalidArgument", 1, 21),
    ("resources | where name matches regex '('", "InvalidArgument", 1, 24),
    ("resources | take 1 | project name | project id", "UnknownColumn", 1, 45),
    ("", "ParserFailure", 1, 1),
    ("resources | where name == 'a' )", "ParserFailure", 1, 31),
    ("resources | where name == 5x", "ParserFailure", 1, 27),
])
def test_errors_name_the_code_and_position(query: str, code: str, line: int, col: int) -> None:
    with pytest.raises(KqlError) as caught:
        run(query)
    assert (caught.value.code, caught.value.line, caught.value.column) == (code, line, col), caught.value.message
    assert caught.value.message


def test_unknown_column_suggests_the_right_case() -> None:
    with pytest.raises(KqlError, match="did you mean 'name'"):
        run("resources | where Name == 'x'")


def test_the_remaining_functions() -> None:
    row = run("resources | take 1 | project a = bag_pack('k', 1, 'j', 'x'), b = pack_array(1, 'two'), "
              "c = set_has_element(dynamic(['a', 'b']), 'b'), d = array_index_of(dynamic([5, 6]), 6), "
              "e = trim('-', '--web--'), f = typeof(tags), g = typeof(name), h = totimespan('01:02:03'), "
              "i = 7 % 3, j = 7 / 2, k = 7.0 / 2, l = array_index_of(dynamic([5]), 9)").rows[0]
    assert row == {"a": {"k": 1, "j": "x"}, "b": [1, "two"], "c": True, "d": 1, "e": "web", "f": "dynamic",
                   "g": "string", "h": dt.timedelta(hours=1, minutes=2, seconds=3), "i": 1, "j": 3, "k": 3.5,
                   "l": -1}


def test_the_remaining_aggregations_and_predicates() -> None:
    result = run(VM_ONLY + " | summarize names = make_list(name, 2), bag = make_bag(tags), "
                 "linux = sumif(1, properties.storageProfile.osDisk.osType == 'Linux'), "
                 "places = dcountif(location, name startswith 'web')")
    assert result.rows == ({"names": ["web-01", "web-02"], "bag": {"env": "test"}, "linux": 3, "places": 1},)
    assert names(VM_ONLY + " | filter name hasprefix 'bat' and name hassuffix 'ker' and name <> 'x'") == [
        "batch-worker"]


@pytest.mark.parametrize("tables", [{"T": "not rows"}, {"T": [1, 2]}, {"T": {"a": 1}}])
def test_malformed_tables_are_a_lab_error(tables: dict[str, Any]) -> None:
    with pytest.raises(LabError, match="KQL table"):
        evaluate("T | take 1", tables)


def test_binary_garbage_in_the_query_is_a_parser_failure() -> None:
    with pytest.raises(KqlError) as caught:
        evaluate("resources | where name == \x00\xff", TABLES)
    assert caught.value.code == "ParserFailure" and caught.value.column == 27
    with pytest.raises(KqlError, match="must be text"):
        evaluate(b"resources", TABLES)  # type: ignore[arg-type]


def test_a_let_value_can_be_projected_next_to_columns() -> None:
    assert run("let limit = 5; resources | take 1 | project name, limit").rows == ({"name": "web-01", "limit": 5},)
