"""PyTorch CPU reference for bench/backends.ts: ResNet-50 (torchvision's architecture, v1.5: stride on the 3x3
convolution) with a 1000-way classifier, a batch of random 224x224 images. Inference in eval mode under
torch.inference_mode; training steps of Adam (lr 1e-3) on softmax cross-entropy, once in train mode (batch norm on
batch statistics) and once with batch norm frozen (its moving statistics, as in the study's fine-tuning and as
ours and Keras run; gamma and beta still train). Prints one JSON line.
ResNet-50 is written out here because the only torchvision build on the air-gapped machines is a CUDA one, whose
operators do not load against CPU torch; the parameter count is checked against torchvision's (25,557,032)."""
import json
import statistics
import sys
import time

import torch
from torch import nn

RESNET50_PARAMETERS = 25_557_032


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet50(classes=1000):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def rate(step, iters, batch):
    """Images per second of the median step (as bench/backends.ts measures ours)."""
    step()  # warm-up: allocation, oneDNN primitive creation
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)


def main():
    batch, infer_iters, train_iters = (int(a) for a in sys.argv[1:4])
    torch.manual_seed(0)
    model = resnet50()
    count = sum(p.numel() for p in model.parameters())
    if count != RESNET50_PARAMETERS:
        raise SystemExit(f"ResNet-50 has {count} parameters, torchvision's has {RESNET50_PARAMETERS}")
    x = torch.randn(batch, 3, 224, 224)
    y = torch.randint(0, 1000, (batch,))
    loss_fn = nn.CrossEntropyLoss()  # softmax + categorical cross-entropy, as the Dense softmax head of ours

    model.eval()

    def infer():
        with torch.inference_mode():
            model(x)

    inference = rate(infer, infer_iters, batch)

    def trainer(frozen_bn):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        if frozen_bn:
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()

        return rate(step, train_iters, batch)

    training = trainer(frozen_bn=False)
    training_frozen = trainer(frozen_bn=True)
    print(json.dumps({"inference": inference, "training": training, "training_frozen_bn": training_frozen,
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled}))


if __name__ == "__main__":
    main()
