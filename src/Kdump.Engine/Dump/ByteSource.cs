using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Kdump.Engine.Dump;

/// <summary>
/// Random-access bytes of a dump: a file on disk, or the virtual "rearranged file" of a flattened stream.
/// Reads are positional and thread-safe; a short read means end of data.
/// </summary>
internal interface IByteSource : IDisposable
{
    /// <summary>The file the bytes come from (for messages).</summary>
    string Path { get; }
    long Length { get; }
    /// <summary>
    /// Bytes really stored behind this source: the file's size, or for a flattened stream the size of the stream
    /// (its rearranged Length may be far larger, the holes reading as zeros). Bounds work a forged header asks for.
    /// </summary>
    long StoredLength => Length;
    /// <summary>Reads up to destination.Length bytes at offset; returns the count read (less only at the end).</summary>
    int Read(long offset, Span<byte> destination);
}

/// <summary>A dump file opened read-only, shared with writers and deleters, read with pread (never loaded whole).</summary>
internal sealed class FileByteSource : IByteSource
{
    private readonly SafeFileHandle _handle;

    public string Path { get; }
    public long Length { get; }
    internal SafeFileHandle Handle => _handle;

    public FileByteSource(string path)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(_handle);
    }

    public int Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Length || destination.IsEmpty) return 0;
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[total..], offset + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Bounds-checked reads of on-disk structures, naming the file and field when the data is not there.</summary>
internal static class SourceExtensions
{
    /// <summary>Reads exactly destination.Length bytes or throws VmcoreTruncated naming <paramref name="what"/>.</summary>
    public static void ReadExactly(this IByteSource src, long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || src.Read(offset, destination) != destination.Length)
            throw DumpErrors.Truncated(src.Path, what, offset, destination.Length);
    }

    public static byte[] ReadArray(this IByteSource src, long offset, int length, string what)
    {
        var b = new byte[length];
        src.ReadExactly(offset, b, what);
        return b;
    }
}

/// <summary>Integer reads in either byte order.</summary>
internal static class Bin
{
    public static ushort U16(ReadOnlySpan<byte> b, int off, bool be) =>
        be ? BinaryPrimitives.ReadUInt16BigEndian(b[off..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[off..]);
    public static uint U32(ReadOnlySpan<byte> b, int off, bool be) =>
        be ? BinaryPrimitives.ReadUInt32BigEndian(b[off..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[off..]);
    public static int I32(ReadOnlySpan<byte> b, int off, bool be) => unchecked((int)U32(b, off, be));
    public static ulong U64(ReadOnlySpan<byte> b, int off, bool be) =>
        be ? BinaryPrimitives.ReadUInt64BigEndian(b[off..]) : BinaryPrimitives.ReadUInt64LittleEndian(b[off..]);
    public static long I64(ReadOnlySpan<byte> b, int off, bool be) => unchecked((long)U64(b, off, be));
    /// <summary>A C "long"/"ulong" of the dumped machine: 4 or 8 bytes.</summary>
    public static ulong ULong(ReadOnlySpan<byte> b, int off, bool be, bool is64) => is64 ? U64(b, off, be) : U32(b, off, be);

    /// <summary>A NUL-terminated (or full-width) ASCII field.</summary>
    public static string CString(ReadOnlySpan<byte> b)
    {
        int n = b.IndexOf((byte)0);
        if (n < 0) n = b.Length;
        var chars = new char[n];
        for (int i = 0; i < n; i++) chars[i] = b[i] is >= 0x20 and < 0x7f ? (char)b[i] : '?';
        return new string(chars);
    }
}
