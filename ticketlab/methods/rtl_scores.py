"""How Routing the Lottery's networks are scored against their partition's test data.

Membership partitions (class, mapping, cluster): one-vs-rest balanced accuracy,
precision and recall per subset, and their means. Environment partitions: accuracy per
environment, and the mean. The same measures serve the routed network (subset k through
mask k), the IMP single model (one mask for all) and the independent models (one each).
"""
from __future__ import annotations

import torch

from ..sparse.similarity import spearman
from ..data.partition import Partition
from ..train.routed import RoutedNet, one_vs_rest

# Class similarity of Fashion-MNIST by garment group: tops (T-shirt, pullover, coat, shirt),
# footwear (sandal, sneaker, ankle boot), and the rest (trouser, dress, bag).
CLASS_GROUPS = {"fashion_mnist": (0, 2, 0, 2, 0, 1, 0, 1, 2, 1)}


class RtlScores:
    def __init__(self, part: Partition, test_x: torch.Tensor):
        self.part, self.test_x, self.k = part, test_x, len(part)

    def routed(self, net: RoutedNet) -> dict:
        """RTL: subset k's inputs through mask k."""
        if self.part.membership:
            return self._membership([net.predict(self.test_x, k).argmax(dim=1) == 1 for k in range(self.k)])
        return self._context([self._accuracy(net, k, k) for k in range(self.k)])

    def single(self, net: RoutedNet) -> dict:
        """The IMP single model: in membership mode a K-way classifier, scored one-vs-rest."""
        if self.part.membership:
            predicted = net.predict(self.test_x, 0).argmax(dim=1)
            return self._membership([predicted == k for k in range(self.k)])
        return self._context([self._accuracy(net, 0, k) for k in range(self.k)])

    def each(self, nets: list[RoutedNet]) -> dict:
        """The independent models: network k for subset k."""
        if self.part.membership:
            return self._membership([net.predict(self.test_x, 0).argmax(dim=1) == 1 for net in nets])
        return self._context([self._accuracy(net, 0, k) for k, net in enumerate(nets)])

    def alignment(self, matrix: list[list[float]], partition: str, dataset: str) -> dict | None:
        """Spearman correlation of the class masks' Jaccard with the classes' similarity."""
        groups = CLASS_GROUPS.get(dataset)
        if partition != "class" or groups is None:
            return None
        pairs = [(i, j) for i in range(self.k) for j in range(i + 1, self.k)]
        rho = spearman([matrix[i][j] for i, j in pairs], [float(groups[i] == groups[j]) for i, j in pairs])
        return {"spearman": rho, "similarity": "Fashion-MNIST garment groups (tops, footwear, other)"}

    def _membership(self, predicted: list[torch.Tensor]) -> dict:
        truth = self.part.test_ids
        per = [one_vs_rest(p, truth == k) for k, p in enumerate(predicted)]
        mean = {key: sum(s[key] for s in per) / len(per) for key in per[0]}
        return {**mean, "per_subset": per}

    def _context(self, accuracies: list[float]) -> dict:
        return {"accuracy": sum(accuracies) / len(accuracies), "per_subset": [{"accuracy": a} for a in accuracies]}

    def _accuracy(self, net: RoutedNet, mask: int, env: int) -> float:
        test = self.part.test[env]
        return float((net.predict(test.x, mask).argmax(dim=1) == test.y).float().mean())
