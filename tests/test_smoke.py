def test_rwft_two_layer_runs_end_to_end(tiny_config, run_config):
    result = run_config(tiny_config, {"method": {"name": "rwft"}, "selector": {"name": "two-layer"}})
    assert result.value("acc_f_test") == 0.0
    assert result.value("acc_r_test", "original") > 80
