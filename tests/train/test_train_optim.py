"""The optimizers do exactly what README.md and `edgecnn train --help` say they do.

Gradients come from tf.GradientTape on a small model; the expected update is the
formula applied in NumPy (float64); the optimizer's result must match within float32 rounding.
"""

import numpy as np
import pytest

from edgecnn.runtime.errors import require
from edgecnn.train.trainer import make_optimizer

tf = require("tensorflow")  # fails with "install the train extra" when missing
keras = require("keras")

LR, BETA = 0.05, 0.9
RTOL, ATOL = 1e-5, 1e-7


def small_model_and_batch(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 6)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    return model, x, y


def gradients(model, x, y):
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss = tf.reduce_mean(loss)
    return [g.numpy().astype(np.float64) for g in tape.gradient(loss, model.trainable_variables)]


def weights(model):
    return [v.numpy().astype(np.float64) for v in model.trainable_variables]


def step(model, optimizer, x, y):
    """One optimizer step; returns (weights before, gradients)."""
    before, grads = weights(model), gradients(model, x, y)
    optimizer.apply_gradients(zip([tf.constant(g, tf.float32) for g in grads], model.trainable_variables))
    return before, grads


def assert_weights(model, expected, what):
    for got, want in zip(weights(model), expected):
        np.testing.assert_allclose(
            got, want, rtol=RTOL, atol=ATOL, err_msg=f"{what}: largest difference {np.abs(got - want).max():.3g}"
        )


def test_sgd_is_plain_gradient_descent():
    model, x, y = small_model_and_batch()
    before, grads = step(model, make_optimizer("sgd", LR), x, y)
    assert_weights(model, [w - LR * g for w, g in zip(before, grads)], "w := w - lr * g")


def test_momentum_matches_its_formula_over_two_steps():
    # One step from m = 0 equals plain SGD; the second step shows beta is used as documented.
    model, x, y = small_model_and_batch()
    optimizer = make_optimizer("momentum", LR, BETA)
    m = [np.zeros_like(w) for w in weights(model)]
    for i in range(2):
        before, grads = step(model, optimizer, x[i::2], y[i::2])
        m = [BETA * mi - LR * g for mi, g in zip(m, grads)]
        assert_weights(model, [w + mi for w, mi in zip(before, m)], f"step {i + 1}: m := beta*m - lr*g; w := w + m")


def test_momentum_differs_from_sgd_on_the_second_step():
    results = []
    for name in ("sgd", "momentum"):
        model, x, y = small_model_and_batch()
        optimizer = make_optimizer(name, LR, BETA)
        step(model, optimizer, x, y)
        step(model, optimizer, x, y)
        results.append(weights(model))
    assert max(np.abs(a - b).max() for a, b in zip(*results)) > 1e-4


def test_adam_first_step_is_keras_adam():
    # Keras Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    # w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps), with b1=0.9, b2=0.999, eps=1e-7.
    model, x, y = small_model_and_batch()
    optimizer = make_optimizer("adam", LR)
    assert isinstance(optimizer, keras.optimizers.Adam)
    before, grads = step(model, optimizer, x, y)
    b1, b2, eps = 0.9, 0.999, 1e-7
    expected = []
    for w, g in zip(before, grads):
        m, v = (1 - b1) * g, (1 - b2) * g * g
        expected.append(w - LR * np.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps))
    assert_weights(model, expected, "Adam step 1")


def test_unknown_optimizer_is_a_clear_error():
    from edgecnn.runtime.errors import EdgecnnError

    with pytest.raises(EdgecnnError, match=r"rmsprop.*sgd, momentum, adam"):
        make_optimizer("rmsprop", LR)


def test_learning_rate_schedules():
    from edgecnn.train.trainer import learning_rate_schedule

    assert learning_rate_schedule("constant", 0.1, 10) == 0.1
    cosine = learning_rate_schedule("cosine", 0.1, 10)
    assert [round(float(cosine(step)), 6) for step in (0, 5, 10)] == [0.1, 0.05, 0.0]
