import pytest

from jaxnets.runs.config import ConfigError, TrainConfig, load_config_file


def test_defaults_are_the_books_run():
  c = TrainConfig()
  assert (c.sizes, c.epochs, c.batch_size, c.eta, c.init, c.optimizer) == (
    (784, 30, 10),
    30,
    10,
    3.0,
    "normal",
    "sgd",
  )


def test_json_and_toml_files_round_trip(tmp_path):
  c = TrainConfig(sizes=(784, 100, 10), eta=0.5, optimizer="momentum", train_size=1000)
  (tmp_path / "c.json").write_text(c.to_json())
  assert load_config_file(str(tmp_path / "c.json")) == c
  (tmp_path / "c.toml").write_text(
    'sizes = [784, 100, 10]\neta = 0.5\noptimizer = "momentum"\ntrain_size = 1000\n'
  )
  assert load_config_file(str(tmp_path / "c.toml")) == c


@pytest.mark.parametrize(
  ("changes", "message"),
  [
    ({"sizes": (784,)}, "sizes [784] has 1 layer(s); expected at least 2"),
    ({"sizes": (784, -3, 10)}, "sizes[1] = -3 in [784, -3, 10]; expected a positive integer"),
    ({"eta": float("inf")}, "eta=inf; expected a finite learning rate > 0"),
    ({"eta": -0.1}, "eta=-0.1"),
    ({"epochs": 0}, "epochs=0; expected an integer ≥ 1"),
    ({"batch_size": 2.5}, "batch_size=2.5; expected an integer ≥ 1"),
    ({"optimizer": "lbfgs"}, "optimizer='lbfgs'; expected one of ['sgd', 'momentum', 'adam']"),
    ({"reinit_output": True}, "reinit_output=true needs init_from"),
  ],
)
def test_bad_values_name_the_field(changes, message):
  with pytest.raises(ConfigError, match=None) as e:
    TrainConfig(**changes)
  assert str(e.value).startswith(message)


def test_bad_files(tmp_path):
  (tmp_path / "bad.toml").write_text("sizes = [784, 30\n")
  with pytest.raises(ConfigError, match="can't be parsed"):
    load_config_file(str(tmp_path / "bad.toml"))
  (tmp_path / "u.json").write_text('{"size": [784, 10]}')
  with pytest.raises(ConfigError, match=r"unknown config key\(s\) \['size'\]"):
    load_config_file(str(tmp_path / "u.json"))
  with pytest.raises(ConfigError, match="must end in .json or .toml"):
    (tmp_path / "c.yaml").write_text("")
    load_config_file(str(tmp_path / "c.yaml"))
  with pytest.raises(ConfigError, match="does not exist"):
    load_config_file(str(tmp_path / "none.json"))
