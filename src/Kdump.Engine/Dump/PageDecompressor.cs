using System.IO.Compression;

namespace Kdump.Engine.Dump;

/// <summary>Decompresses one stored page to exactly the page size. Thread-safe; never throws on bad data.</summary>
internal static class PageDecompressor
{
    public const uint FlagZlib = 0x1, FlagLzo = 0x2, FlagSnappy = 0x4, FlagZstd = 0x20;

    [ThreadStatic] private static ZstdSharp.Decompressor? t_zstd;

    public static DumpCompression CompressionOf(uint flags) =>
        (flags & FlagZlib) != 0 ? DumpCompression.Zlib :
        (flags & FlagLzo) != 0 ? DumpCompression.Lzo :
        (flags & FlagSnappy) != 0 ? DumpCompression.Snappy :
        (flags & FlagZstd) != 0 ? DumpCompression.Zstd : DumpCompression.None;

    /// <summary>Decompresses <paramref name="src"/> into all of <paramref name="dst"/>; returns null or the reason it failed.</summary>
    public static string? Decompress(DumpCompression c, ReadOnlySpan<byte> src, Span<byte> dst)
    {
        try
        {
            switch (c)
            {
                case DumpCompression.None:
                    if (src.Length != dst.Length) return $"a page stored raw is {src.Length} bytes, not {dst.Length}";
                    src.CopyTo(dst);
                    return null;
                case DumpCompression.Zlib:
                    return Zlib(src, dst);
                case DumpCompression.Lzo:
                    if (!Lzo1x.TryDecompress(src, dst, out int lw)) return "malformed LZO1X data";
                    return lw == dst.Length ? null : $"LZO1X data gave {lw} bytes, not {dst.Length}";
                case DumpCompression.Snappy:
                    int need = Snappier.Snappy.GetUncompressedLength(src);
                    if (need != dst.Length) return $"snappy data declares {need} bytes, not {dst.Length}";
                    int sw = Snappier.Snappy.Decompress(src, dst);
                    return sw == dst.Length ? null : $"snappy data gave {sw} bytes";
                case DumpCompression.Zstd:
                    var z = t_zstd ??= new ZstdSharp.Decompressor();
                    if (!z.TryUnwrap(src, dst, out int zw)) return "malformed or oversized zstd data";
                    return zw == dst.Length ? null : $"zstd data gave {zw} bytes, not {dst.Length}";
                default:
                    return $"unknown compression {c}";
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException or InvalidOperationException or ZstdSharp.ZstdException or IOException)
        {
            t_zstd = null; // never reuse a decompressor left in an unknown state
            return $"{c} data is malformed ({ex.Message})";
        }
    }

    private static unsafe string? Zlib(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        fixed (byte* p = src)
        {
            using var ms = new UnmanagedMemoryStream(p, src.Length);
            using var z = new ZLibStream(ms, CompressionMode.Decompress);
            int total = 0;
            while (total < dst.Length)
            {
                int n = z.Read(dst[total..]);
                if (n == 0) break;
                total += n;
            }
            if (total != dst.Length) return $"zlib data gave {total} bytes, not {dst.Length}";
            Span<byte> extra = stackalloc byte[1];
            if (z.Read(extra) != 0) return $"zlib data holds more than {dst.Length} bytes";
            return null;
        }
    }
}
