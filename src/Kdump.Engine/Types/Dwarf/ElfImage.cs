using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Kdump.Engine.Types.Dwarf;

/// <summary>One section header of an <see cref="ElfImage"/>.</summary>
internal sealed record ElfSection(int Index, string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)
{
    public const uint ShtNull = 0, ShtProgbits = 1, ShtSymtab = 2, ShtStrtab = 3, ShtNote = 7, ShtNobits = 8;
    public const ulong ShfWrite = 1, ShfAlloc = 2, ShfExecinstr = 4, ShfCompressed = 0x800;
    public bool IsNoBits => Type == ShtNobits;
    public bool IsCompressed => (Flags & ShfCompressed) != 0;
}

/// <summary>
/// A 64-bit little-endian ELF file (vmlinux) mapped into memory read-only: section headers are parsed eagerly
/// (bounds-checked), section contents are handed out as views over the mapping without copying; SHF_COMPRESSED
/// sections (zlib, zstd) are inflated once on first use and kept.
/// </summary>
internal sealed unsafe class ElfImage : IDisposable
{
    public const int MaxSections = 65535;
    /// <summary>Largest section we hand out (Span length limit) and largest decompressed size we accept.</summary>
    public const long MaxSectionBytes = int.MaxValue - 64;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly byte[]? _buffer; // in-memory image (tests)
    private readonly Dictionary<int, ReadOnlyMemory<byte>> _inflated = new();
    private readonly object _lock = new();
    private bool _disposed;

    public string Path { get; }
    public long Length { get; }
    public ushort ElfType { get; }
    public ushort Machine { get; }
    public IReadOnlyList<ElfSection> Sections { get; }

    private ElfImage(string path, long length, byte* basePtr, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte[]? buffer)
    {
        Path = path; Length = length; _base = basePtr; _map = map; _view = view; _buffer = buffer;
        var hdr = Bytes(0, Math.Min(64, length));
        if (hdr.Length < 64 || !hdr[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']))
            throw Invalid("is not an ELF file");
        if (hdr[4] != 2) throw new KdumpException("VmlinuxFormatUnsupported", KdumpErrorKind.NotSupported, $"'{path}' is a 32-bit ELF file; only 64-bit kernels are supported.", path);
        if (hdr[5] != 1) throw new KdumpException("VmlinuxFormatUnsupported", KdumpErrorKind.NotSupported, $"'{path}' is a big-endian ELF file; only little-endian kernels are supported.", path);
        ElfType = BinaryPrimitives.ReadUInt16LittleEndian(hdr[16..]);
        Machine = BinaryPrimitives.ReadUInt16LittleEndian(hdr[18..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(hdr[40..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(hdr[58..]);
        uint shnum = BinaryPrimitives.ReadUInt16LittleEndian(hdr[60..]);
        uint shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(hdr[62..]);
        var list = new List<ElfSection>();
        if (shoff != 0)
        {
            if (shentsize < 64) throw Invalid($"has a section header size of {shentsize}");
            if (shoff >= (ulong)length) throw Invalid("has its section headers past the end of the file");
            if (shnum == 0 || shstrndx == 0xffff)
            {   // extended numbering: real values live in section header 0
                var h0 = Bytes((long)shoff, 64);
                if (shnum == 0) shnum = (uint)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(h0[32..]), uint.MaxValue);
                if (shstrndx == 0xffff) shstrndx = BinaryPrimitives.ReadUInt32LittleEndian(h0[40..]);
            }
            if (shnum > MaxSections) throw Invalid($"declares {shnum} sections (limit {MaxSections})");
            if (shoff + (ulong)shnum * shentsize > (ulong)length) throw Invalid("has section headers past the end of the file");
            var raw = new (uint name, uint type, ulong flags, ulong addr, ulong off, ulong size, uint link, uint info, ulong entsize)[shnum];
            for (int i = 0; i < shnum; i++)
            {
                var s = Bytes((long)shoff + (long)i * shentsize, 64);
                raw[i] = (BinaryPrimitives.ReadUInt32LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[8..]), BinaryPrimitives.ReadUInt64LittleEndian(s[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[24..]), BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(s[40..]), BinaryPrimitives.ReadUInt32LittleEndian(s[44..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(s[56..]));
            }
            ReadOnlySpan<byte> names = default;
            if (shstrndx < shnum && raw[shstrndx].type != ElfSection.ShtNobits && raw[shstrndx].off + raw[shstrndx].size <= (ulong)length && raw[shstrndx].size <= int.MaxValue)
                names = Bytes((long)raw[shstrndx].off, (long)raw[shstrndx].size);
            for (int i = 0; i < shnum; i++)
            {
                var r = raw[i];
                string name = CString(names, r.name);
                list.Add(new ElfSection(i, name, r.type, r.flags, r.addr, r.off, r.size, r.link, r.info, r.entsize));
            }
        }
        Sections = list;
    }

    public static ElfImage Open(string path)
    {
        FileStream fs;
        try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var kind = e is FileNotFoundException or DirectoryNotFoundException ? KdumpErrorKind.NotFound : e is UnauthorizedAccessException ? KdumpErrorKind.PermissionDenied : KdumpErrorKind.ReadError;
            throw new KdumpException(kind == KdumpErrorKind.NotFound ? "VmlinuxNotFound" : "VmlinuxUnreadable", kind, $"Cannot open '{path}': {e.Message}", path, e);
        }
        long len = fs.Length;
        if (len < 64) { fs.Dispose(); throw new KdumpException("VmlinuxInvalid", KdumpErrorKind.InvalidData, $"'{path}' is not an ELF file (only {len} bytes).", path); }
        MemoryMappedFile? map = null; MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            p += view.PointerOffset;
            return new ElfImage(path, len, p, map, view, null);
        }
        catch (Exception e)
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (map is not null) map.Dispose(); else fs.Dispose();
            if (e is KdumpException) throw;
            throw new KdumpException("VmlinuxUnreadable", KdumpErrorKind.ReadError, $"Cannot map '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>An image held in memory (tests, or a vmlinux extracted from elsewhere).</summary>
    public static ElfImage FromBytes(byte[] data, string name)
    {
        if (data.Length < 64) throw new KdumpException("VmlinuxInvalid", KdumpErrorKind.InvalidData, $"'{name}' is not an ELF file (only {data.Length} bytes).", name);
        return new ElfImage(name, data.Length, null, null, null, data);
    }

    private KdumpException Invalid(string what) => new("VmlinuxInvalid", KdumpErrorKind.InvalidData, $"'{Path}' {what}.", Path);

    /// <summary>A bounds-checked view of the file.</summary>
    public ReadOnlySpan<byte> Bytes(long offset, long length)
    {
        if (IsDisposed) throw Closed();
        if (offset < 0 || length < 0 || length > int.MaxValue || offset > Length || length > Length - offset)
            throw Invalid($"is truncated (wanted {length} bytes at offset {offset})");
        return _buffer is not null ? _buffer.AsSpan((int)offset, (int)length) : new ReadOnlySpan<byte>(_base + offset, (int)length);
    }

    private ReadOnlyMemory<byte> Memory(long offset, long length)
    {
        Bytes(offset, length); // bounds check
        if (_buffer is not null) return _buffer.AsMemory((int)offset, (int)length);
        return new UnmanagedMemory(this, _base + offset, (int)length).Memory;
    }

    public ElfSection? FindSection(string name)
    {
        foreach (var s in Sections) if (s.Name == name) return s;
        return null;
    }

    /// <summary>True when the section has contents in this file (not NOBITS, not empty).</summary>
    public static bool HasData(ElfSection? s) => s is not null && !s.IsNoBits && s.Size > 0;

    /// <summary>The contents of a section, decompressed when SHF_COMPRESSED. Empty for NOBITS.</summary>
    public ReadOnlyMemory<byte> SectionData(ElfSection s)
    {
        if (s.IsNoBits || s.Size == 0) return ReadOnlyMemory<byte>.Empty;
        if (s.Size > (ulong)MaxSectionBytes) throw Invalid($"has a section {s.Name} of {s.Size} bytes (limit {MaxSectionBytes})");
        if (s.Offset > (ulong)Length || s.Size > (ulong)Length - s.Offset) throw Invalid($"has section {s.Name} past the end of the file");
        if (!s.IsCompressed) return Memory((long)s.Offset, (long)s.Size);
        lock (_lock)
        {
            if (_inflated.TryGetValue(s.Index, out var m)) return m;
            var data = Decompress(s, Bytes((long)s.Offset, (long)s.Size));
            _inflated[s.Index] = data;
            return data;
        }
    }

    public ReadOnlyMemory<byte> SectionData(string name) => FindSection(name) is { } s ? SectionData(s) : ReadOnlyMemory<byte>.Empty;

    private byte[] Decompress(ElfSection s, ReadOnlySpan<byte> raw)
    {
        const uint ElfCompressZlib = 1, ElfCompressZstd = 2;
        if (raw.Length < 24) throw Invalid($"has a compressed section {s.Name} without a header");
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(raw);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(raw[8..]);
        if (size > (ulong)MaxSectionBytes) throw Invalid($"has a compressed section {s.Name} of {size} bytes uncompressed (limit {MaxSectionBytes})");
        var payload = raw[24..];
        var outBuf = new byte[size];
        try
        {
            int got;
            if (type == ElfCompressZlib)
            {
                fixed (byte* p = payload)
                {
                    using var ums = new UnmanagedMemoryStream(p, payload.Length);
                    using var z = new ZLibStream(ums, CompressionMode.Decompress);
                    got = 0;
                    while (got < outBuf.Length) { int n = z.Read(outBuf, got, outBuf.Length - got); if (n == 0) break; got += n; }
                }
            }
            else if (type == ElfCompressZstd)
            {
                using var d = new ZstdSharp.Decompressor();
                got = d.Unwrap(payload, outBuf);
            }
            else throw new KdumpException("VmlinuxFormatUnsupported", KdumpErrorKind.NotSupported, $"'{Path}' section {s.Name} uses compression type {type}, which is not supported (zlib and zstd are).", Path);
            if ((ulong)got != size) throw Invalid($"has a compressed section {s.Name} that inflates to {got} bytes instead of {size}");
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or IOException or ArgumentException)
        {
            throw new KdumpException("VmlinuxInvalid", KdumpErrorKind.InvalidData, $"'{Path}' section {s.Name} cannot be decompressed: {e.Message}", Path, e);
        }
        return outBuf;
    }

    /// <summary>A NUL-terminated string at <paramref name="offset"/> in <paramref name="table"/> ("" when out of range).</summary>
    public static string CString(ReadOnlySpan<byte> table, ulong offset)
    {
        if (offset >= (ulong)table.Length) return "";
        var rest = table[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null) { _view.SafeMemoryMappedViewHandle.ReleasePointer(); _view.Dispose(); }
        _map?.Dispose();
    }

    /// <summary>True once the image is closed (its mapping is gone).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed);

    private KdumpException Closed() => new("VmcoreClosed", KdumpErrorKind.InvalidArgument,
        $"'{Path}' has been closed with its dump; open the dump again with Open-Vmcore.", Path);

    /// <summary>
    /// Exposes part of the mapping as Memory&lt;byte&gt;. Lazy readers (the DWARF index, lazily resolved types) keep
    /// these after the dump is closed: every access checks the image first and throws VmcoreClosed rather than
    /// touching the unmapped view.
    /// </summary>
    private sealed class UnmanagedMemory : MemoryManager<byte>
    {
        private readonly ElfImage _owner; private readonly byte* _p; private readonly int _len;
        public UnmanagedMemory(ElfImage owner, byte* p, int len) { _owner = owner; _p = p; _len = len; }
        public override Span<byte> GetSpan() => _owner.IsDisposed ? throw _owner.Closed() : new(_p, _len);
        public override MemoryHandle Pin(int elementIndex = 0) => _owner.IsDisposed ? throw _owner.Closed() : new(_p + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
