#!/usr/bin/env python3
"""How many multiply-add slots a padded layer's forward tiles spend, per input channel and channel vector,
under four ways of cutting the output pixels into tiles (the blocked kernels skip, per tile, the window rows or
columns that lie in the zero border for every pixel of the tile; a short last tile still runs whole):

  row-major 8   tiles of 8 consecutive pixels in row-major order (the ordinary tiles; rows skipped)
  row tiles 7   tiles of 7 pixels within one output row (rows skipped), where the width is a multiple of 7
  col classes   pixels grouped by which window columns lie inside the image, each group row-major, tiles of
                8 (and of 7) pixels within a group: rows and columns skipped
  signatures    pixels grouped by (window rows inside, window columns inside), tiles of 8 within a group
  useful        the window taps inside the image, summed over the pixels (no tile can spend fewer)

Run: python3 column_class_tiles_slots.py (prints the table in column_class_tiles_slots.txt).
"""


def inside(position, stride, pad, window, size):
    first = position * stride - pad
    return max(0, min(window, -first)), max(0, min(window, size - first))


def slots(tiles, shape):
    height, width, window, stride, pad, out = shape
    total = 0
    for pixels, tile in tiles:
        rows, cols = (window, 0), (window, 0)
        for p in pixels:
            r = inside(p // out, stride, pad, window, height)
            c = inside(p % out, stride, pad, window, width)
            rows = (min(rows[0], r[0]), max(rows[1], r[1]))
            cols = (min(cols[0], c[0]), max(cols[1], c[1]))
        total += tile * max(0, rows[1] - rows[0]) * max(0, cols[1] - cols[0])
    return total


def cut(pixels, tile):
    return [(pixels[i:i + tile], tile) for i in range(0, len(pixels), tile)]


def grouped(shape, key, tile):
    height, width, window, stride, pad, out = shape
    groups = {}
    for y in range(out):
        for x in range(out):
            groups.setdefault(key(y, x), []).append(y * out + x)
    return [t for g in groups.values() for t in cut(g, tile)]


def main():
    layers = [("inception_5x5_f48 (14x14, 5x5, pad 2)", 14, 5, 1, 2), ("inception_5x5_f32 (28x28, 5x5, pad 2)", 28, 5, 1, 2),
              ("res3a_branch2b (28x28, 3x3, pad 1)", 28, 3, 1, 1), ("res5a_branch2b (7x7, 3x3, pad 1)", 7, 3, 1, 1)]
    print("| layer | useful | row-major 8 | row tiles 7 | col classes 8 | col classes 7 | signatures 8 |")
    print("|---|---|---|---|---|---|---|")
    for name, size, window, stride, pad in layers:
        out = (size + 2 * pad - window) // stride + 1
        shape = (size, size, window, stride, pad, out)
        useful = sum((inside(y, stride, pad, window, size)[1] - inside(y, stride, pad, window, size)[0]) *
                     (inside(x, stride, pad, window, size)[1] - inside(x, stride, pad, window, size)[0])
                     for y in range(out) for x in range(out))
        row_major = slots(cut(list(range(out * out)), 8), shape)
        row_tiles = slots([t for y in range(out) for t in cut(list(range(y * out, (y + 1) * out)), 7)], shape) \
            if out % 7 == 0 else "-"
        column_key = lambda y, x: inside(x, stride, pad, window, size)
        columns_8 = slots(grouped(shape, column_key, 8), shape)
        columns_7 = slots(grouped(shape, column_key, 7), shape)
        signature_key = lambda y, x: (inside(y, stride, pad, window, size), inside(x, stride, pad, window, size))
        signatures = slots(grouped(shape, signature_key, 8), shape)
        print(f"| {name} | {useful} | {row_major} | {row_tiles} | {columns_8} | {columns_7} | {signatures} |")


if __name__ == "__main__":
    main()
