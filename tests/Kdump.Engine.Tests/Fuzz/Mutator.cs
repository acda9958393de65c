using System.Buffers.Binary;

namespace Kdump.Engine.Tests.Fuzz;

internal sealed record MutantImage(byte[] Image, long Length, List<(long Offset, byte[] Bytes)> Patches);

internal sealed record Mutant(string Description, IReadOnlyList<MutantImage> Images, bool Force);

/// <summary>Builds one deterministic mutant of a base from a seed: 1-3 mutations aimed at the base's regions.</summary>
internal static class Mutator
{
    private static readonly ulong[] Interesting =
    {
        0, 1, 2, 7, 8, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
        1UL << 30, 1UL << 40, 1UL << 62, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1,
    };

    public static Mutant Make(FuzzBase b, int seed)
    {
        var rng = new Random(seed * 7919 + 17);
        int target = rng.Next(b.Images.Length);
        var images = b.Images.Select(img => new MutantImage(img, img.Length, new List<(long, byte[])>())).ToList();
        var img = images[target];
        var regions = b.Regions[target];
        int count = 1 + (rng.Next(4) == 0 ? rng.Next(1, 3) : 0);
        var what = new List<string>();
        long length = img.Length;
        for (int k = 0; k < count; k++)
        {
            // Bases with known kernel pointers get a swizzle half of the time; otherwise one of the byte-level mutations.
            int op = b.PointerOffsets.Count > 0 && target == 0 && rng.Next(2) == 0 ? 6 : rng.Next(6);
            var r = regions[rng.Next(regions.Count)];
            if (r.Length <= 0) continue;
            switch (op)
            {
                case 0: // truncation: at a region boundary, inside a region, or anywhere
                {
                    long at = rng.Next(3) switch
                    {
                        0 => r.Start + rng.Next(-8, 9),
                        1 => r.Start + (long)(rng.NextDouble() * r.Length),
                        _ => (long)(rng.NextDouble() * img.Image.Length),
                    };
                    length = Math.Clamp(Math.Min(length, at), 0, img.Image.Length);
                    what.Add($"truncate@{length}");
                    break;
                }
                case 1: // bit flips
                {
                    int n = rng.Next(1, 5);
                    for (int i = 0; i < n; i++)
                    {
                        long at = r.Start + (long)(rng.NextDouble() * r.Length);
                        img.Patches.Add((at, new[] { (byte)(img.Image[at] ^ (1 << rng.Next(8))) }));
                    }
                    what.Add($"{r.Kind}:flip{n}");
                    break;
                }
                case 2: // a run of one byte value
                {
                    int n = (int)Math.Min(r.Length, rng.Next(1, 65));
                    long at = r.Start + (long)(rng.NextDouble() * (r.Length - n + 1));
                    byte v = rng.Next(3) switch { 0 => 0, 1 => 0xff, _ => (byte)rng.Next(256) };
                    img.Patches.Add((at, Enumerable.Repeat(v, n).ToArray()));
                    what.Add($"{r.Kind}:run{n}x{v:x2}@{at:x}");
                    break;
                }
                case 3: // an interesting integer at an aligned position (header fields, descriptor fields, sizes)
                case 4:
                {
                    int width = rng.Next(2) == 0 ? 4 : 8;
                    long at = r.Start + (long)(rng.NextDouble() * Math.Max(1, r.Length - width)) / width * width;
                    ulong v = rng.Next(4) == 0 ? (ulong)rng.NextInt64() : Interesting[rng.Next(Interesting.Length)];
                    if (rng.Next(5) == 0) v = (ulong)img.Image.Length + (ulong)rng.Next(-4096, 4096);
                    var bytes = new byte[width];
                    if (width == 4) BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)v); else BinaryPrimitives.WriteUInt64LittleEndian(bytes, v);
                    if (rng.Next(6) == 0) Array.Reverse(bytes);
                    img.Patches.Add((at, bytes));
                    what.Add($"{r.Kind}:int{width * 8}=0x{v:x}@{at:x}");
                    break;
                }
                case 5: // random bytes
                {
                    int n = (int)Math.Min(r.Length, rng.Next(1, 33));
                    long at = r.Start + (long)(rng.NextDouble() * (r.Length - n + 1));
                    var bytes = new byte[n];
                    rng.NextBytes(bytes);
                    img.Patches.Add((at, bytes));
                    what.Add($"{r.Kind}:rand{n}@{at:x}");
                    break;
                }
                default: // kernel-pointer swizzle
                {
                    long at = b.PointerOffsets[rng.Next(b.PointerOffsets.Count)];
                    ulong v = BinaryPrimitives.ReadUInt64LittleEndian(img.Image.AsSpan((int)at));
                    ulong other = BinaryPrimitives.ReadUInt64LittleEndian(img.Image.AsSpan((int)b.PointerOffsets[rng.Next(b.PointerOffsets.Count)]));
                    ulong nv = rng.Next(6) switch
                    {
                        0 => v ^ (1UL << rng.Next(48)),
                        1 => v + (ulong)(rng.Next(-64, 65) * 8),
                        2 => other,
                        3 => 0,
                        4 => v & ~0xfffUL,
                        _ => 0xffff_8880_0000_0000UL + (ulong)rng.NextInt64(1L << 40),
                    };
                    var bytes = new byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, nv);
                    img.Patches.Add((at, bytes));
                    what.Add($"ptr@{at:x}:{v:x}->{nv:x}");
                    break;
                }
            }
        }
        images[target] = img with { Length = length };
        bool force = rng.Next(3) == 0;
        return new Mutant($"{b.Name}#{seed}{(images.Count > 1 ? $"/part{target}" : "")}{(force ? "/force" : "")}: {string.Join(", ", what)}", images, force);
    }
}
