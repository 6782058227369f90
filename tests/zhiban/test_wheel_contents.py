"""The built wheel carries every file the push page serves, and the installed copy serves them.

The Dockerfile installs Zhiban from its wheel, so a file left out of package-data is missing in
production only (the source tree has it): the page's manifest answered 500 and its icon 404.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from records.config import Settings
from server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "static"

# Fetches every static file from the app of whichever `server` package is imported first;
# prints where that package lives so the caller can tell the wheel's copy was used.
FETCH_ALL = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
import server
from server.app import create_app
from records.config import Settings

static = Path(server.__file__).parent / "static"
app = create_app(Settings(data_dir=Path(sys.argv[1])))
client = TestClient(app, raise_server_exceptions=False)
for name in sys.argv[2:]:
    response = client.get(name if name.startswith("/") else f"/push/static/{name}")
    print(name, response.status_code, len(response.content))
print("FROM", Path(server.__file__).resolve())
"""


def static_names() -> list[str]:
    return sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())


def page_paths() -> list[str]:
    # The page's own routes besides /push/static/: each answers a file of the static folder.
    return ["/push/", "/push/sw.js", "/push/manifest.webmanifest"]


def test_every_static_file_is_served(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    for name in static_names():
        response = client.get(f"/push/static/{name}")
        assert response.status_code == 200, name
        assert response.content == (STATIC / name).read_bytes(), name
    for path in page_paths():
        assert client.get(path).status_code == 200, path


def dockerfile_copies() -> list[str]:
    """The files and folders the Dockerfile copies before `pip install .` (not the lock)."""
    names: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            names += [name for name in line.split()[1:-1] if name != "requirements.lock"]
    return names


@pytest.fixture(name="wheel", scope="module")
def wheel_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from what the Dockerfile copies into the image, in a clean folder: a build/ left in
    # the working tree would otherwise lend the wheel files that package-data leaves out.
    source = tmp_path_factory.mktemp("source")
    for name in dockerfile_copies():
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        cwd=source,
        capture_output=True,
    )
    (wheel,) = out.glob("zhiban-*.whl")
    return wheel


def test_wheel_holds_every_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in static_names() if f"server/static/{name}" not in names]
    assert not missing, f"the wheel lacks {missing}; add their suffixes to package-data in pyproject.toml"


def test_installed_wheel_serves_every_static_file(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env_python = env_dir / "bin" / "python"
    subprocess.run(
        [str(env_python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(env_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The fresh venv has no dependencies; this interpreter has them. Its installed Zhiban is
    # put first on the path so the wheel's files, not the source tree's, are served.
    result = subprocess.run(
        [sys.executable, "-c", FETCH_ALL, str(tmp_path / "data"), *static_names(), *page_paths()],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": site, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith(f"FROM {Path(site).resolve()}"), lines[-1]
    for line, name in zip(lines[:-1], [*static_names(), *page_paths()], strict=True):
        assert line.split()[:2] == [name, "200"], line
