using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Fuzz;

/// <summary>A mutated view of a dump image: the base bytes, cut to <see cref="Length"/>, with byte patches on top (no copy).</summary>
internal sealed class MutantSource : IByteSource
{
    private readonly byte[] _base;
    private readonly List<(long Offset, byte[] Bytes)> _patches;

    public MutantSource(string path, byte[] image, long length, List<(long Offset, byte[] Bytes)> patches)
    {
        Path = path;
        _base = image;
        Length = Math.Min(length, image.Length);
        _patches = patches;
    }

    public string Path { get; }
    public long Length { get; }

    public int Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Length || destination.IsEmpty) return 0;
        int n = (int)Math.Min(destination.Length, Length - offset);
        _base.AsSpan((int)offset, n).CopyTo(destination);
        foreach (var (po, pb) in _patches)
        {
            long lo = Math.Max(po, offset), hi = Math.Min(po + pb.Length, offset + n);
            if (lo < hi) pb.AsSpan((int)(lo - po), (int)(hi - lo)).CopyTo(destination[(int)(lo - offset)..]);
        }
        return n;
    }

    public void Dispose() { }
}

/// <summary>A byte range of a base image and what it holds, for aiming mutations.</summary>
internal readonly record struct Region(string Kind, long Start, long End)
{
    public long Length => End - Start;
}

/// <summary>A base dump for the fuzzer: its image (or a split set's images), the regions worth mutating, and kernel pointers found in it.</summary>
internal sealed class FuzzBase
{
    public required string Name { get; init; }
    public required byte[][] Images { get; init; }
    public required List<Region>[] Regions { get; init; }
    /// <summary>File offsets (in image 0) of 8-byte values that are kernel pointers, for swizzles.</summary>
    public List<long> PointerOffsets { get; init; } = new();
    /// <summary>Whether the base holds a real kernel (tasks, log, symbols can be read).</summary>
    public bool RealKernel { get; init; }
}
