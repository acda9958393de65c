using System.Text;

namespace Kdump.Engine.Dump;

/// <summary>
/// makedumpfile's kdump-compressed format (header versions 0-6; 64-bit and 32-bit, either byte order): two page
/// bitmaps (RAM, dumped), one 24-byte page descriptor per dumped page found by rank, page data stored raw or
/// compressed with zlib, LZO1X, snappy or zstd. Excluded (filtered) is kept apart from NotInDump (a hole) and Lost
/// (an incomplete dump's page that was never written).
/// </summary>
internal sealed partial class KdumpCompressedReader : IDumpReader
{
    public const int PageDescSize = 24;
    private readonly IByteSource _src;
    private readonly bool _ownsSource;
    private readonly PageBitmap _ram, _dumped;
    private readonly long _descOffset;
    private readonly long _descCount;
    private readonly long _rankStart;
    private readonly ulong _start, _end;
    private readonly int _maxStored;

    public KdumpHeader Header { get; }
    public DumpHeaderInfo Info { get; } = new();
    public int PageSize { get; }
    public ulong MaxPfn { get; }
    public bool IsCompressed => true;
    public string Path => _src.Path;
    internal ulong SplitStart => _start;
    internal ulong SplitEnd => _end;
    internal PageBitmap RamBitmap => _ram;
    internal PageBitmap DumpedBitmap => _dumped;

    public KdumpCompressedReader(IByteSource src, DumpLimits limits, EngineHost host, bool force, bool ownsSource = true)
    {
        _src = src;
        _ownsSource = ownsSource;
        string path = src.Path;
        var h = Header = KdumpHeader.Read(src);
        PageSize = h.BlockSize;
        _maxStored = h.BlockSize; // raw pages are exactly one block; compressed ones never exceed it (makedumpfile stores raw instead)
        ulong maxMapnr = h.MaxMapnr;
        if (maxMapnr == 0) throw DumpErrors.Corrupt(path, "max_mapnr", "is 0 (the dump describes no memory)");
        if (maxMapnr > limits.MaxPageFrames) throw DumpErrors.Limit(path, h.HeaderVersion >= 6 ? "max_mapnr_64" : "max_mapnr", $"is {maxMapnr} page frames (limit {limits.MaxPageFrames})");
        MaxPfn = maxMapnr;

        long bs = h.BlockSize;
        long bitmapOffset = (1L + h.SubHdrSize) * bs;
        long bitmapBytes = (long)h.BitmapBlocks * bs;
        long needPerMap = (long)((maxMapnr + 7) / 8);
        if (h.BitmapBlocks == 0) throw DumpErrors.Corrupt(path, "bitmap_blocks", "is 0");
        if (bitmapBytes > 2 * limits.MaxBitmapBytes) throw DumpErrors.Limit(path, "bitmap_blocks", $"declares {bitmapBytes} bytes of bitmaps (limit {2 * limits.MaxBitmapBytes})");
        // makedumpfile ("KDUMP") always writes two bitmaps of equal size; only the old diskdump may have one.
        bool two = bitmapBytes / 2 >= needPerMap;
        if (h.Signature == "KDUMP" && (!two || h.BitmapBlocks % 2 != 0))
            throw DumpErrors.Corrupt(path, "bitmap_blocks", $"({h.BitmapBlocks} blocks = {bitmapBytes} bytes) cannot hold two bitmaps of {needPerMap} bytes for max_mapnr {maxMapnr}");
        if (!two && bitmapBytes < needPerMap)
            throw DumpErrors.Corrupt(path, "bitmap_blocks", $"({h.BitmapBlocks} blocks = {bitmapBytes} bytes) is too small for max_mapnr {maxMapnr} ({needPerMap} bytes per bitmap)");
        if (bitmapBytes > src.StoredLength)
            throw DumpErrors.Corrupt(path, "bitmap_blocks", $"declares {bitmapBytes} bytes of bitmaps for max_mapnr {maxMapnr}, more than the {src.StoredLength} bytes the file holds");
        if (bitmapOffset + bitmapBytes > src.Length)
            throw DumpErrors.Corrupt(path, "bitmap_blocks", $"puts the bitmaps (0x{bitmapOffset:x} + {bitmapBytes} bytes) past the end of the {src.Length}-byte file");
        _ram = PageBitmap.Read(src, bitmapOffset, maxMapnr, "1st bitmap");
        _dumped = two ? PageBitmap.Read(src, bitmapOffset + bitmapBytes / 2, maxMapnr, "2nd bitmap") : _ram;
        _descOffset = bitmapOffset + bitmapBytes;

        if (h.IsSplit)
        {
            _start = h.SplitStart; _end = h.SplitEnd;
            if (_start > _end || _end > maxMapnr)
                throw DumpErrors.Corrupt(path, h.HeaderVersion >= 6 ? "start_pfn_64/end_pfn_64" : "start_pfn/end_pfn", $"[{_start}, {_end}) is not inside [0, max_mapnr {maxMapnr})");
        }
        else { _start = 0; _end = maxMapnr; }
        _rankStart = _dumped.Rank(_start);
        _descCount = _dumped.Rank(_end) - _rankStart;

        var info = Info;
        info.Format = info.PayloadFormat = DumpFormat.KdumpCompressed;
        info.HeaderVersion = h.HeaderVersion;
        info.Is64Bit = h.Is64;
        info.BigEndian = h.BigEndian;
        info.Architecture = h.Machine.Length > 0 ? h.Machine : null;
        info.UtsRelease = h.Release.Length > 0 ? h.Release : null;
        info.UtsVersion = h.Version.Length > 0 ? h.Version : null;
        info.UtsNodeName = h.NodeName.Length > 0 ? h.NodeName : null;
        info.UtsMachine = h.Machine;
        info.Compression = h.Compression;
        info.DumpLevel = h.DumpLevel;
        info.Incomplete = (h.Status & KdumpHeader.StatusIncomplete) != 0;
        info.HeaderCpuCount = h.NrCpus;
        info.HeaderCurrentCpu = unchecked((int)h.CurrentCpu);
        info.PhysBase = h.SubHdrSize > 0 ? h.PhysBase : null;
        info.Split = h.Split is not null ? h.IsSplit : null;
        if (h.IsSplit) { info.SplitStartPfn = _start; info.SplitEndPfn = _end; }
        if (h.TimestampSec > 0 && h.TimestampSec < 253402300799) info.Timestamp = DateTimeOffset.FromUnixTimeSeconds(h.TimestampSec).AddTicks(Math.Clamp(h.TimestampUsec, 0, 999_999) * 10);
        info.PhysicalPages = (ulong)_ram.CountRange(0, maxMapnr);
        info.DumpedPages = (ulong)_descCount;
        info.ExcludedPages = (ulong)(_ram.CountAndNot(_dumped));
        info.Explanation.Add($"signature \"{h.Signature}\", header_version {h.HeaderVersion}, {(h.Is64 ? 64 : 32)}-bit {(h.BigEndian ? "big" : "little")}-endian (sub-header layout {h.SubHeaderLayout}), block_size {h.BlockSize}, compression {h.Compression} (status 0x{h.Status:x}), max_mapnr {maxMapnr}, {(two ? "two bitmaps" : "one bitmap")} of {h.BitmapBlocks} blocks, {_descCount} page descriptors{(h.IsSplit ? $", split part for pfns [{_start}, {_end})" : "")}");

        long descEnd = _descOffset + _descCount * PageDescSize;
        if (descEnd > src.Length)
        {
            if (!info.Incomplete && !force)
                throw DumpErrors.Corrupt(path, "page descriptors", $"({_descCount} of {PageDescSize} bytes at 0x{_descOffset:x}) run past the end of the {src.Length}-byte file (truncated copy? -Force opens it with the missing pages marked lost)");
            host.Warning($"'{path}': the page descriptor table runs past the end of the file; the pages it does not cover read as lost.");
            info.Problems.Add($"truncated: the page descriptor table ends at 0x{descEnd:x} but the file ends at 0x{src.Length:x}");
            info.Incomplete = true;
        }

        ReadNotes(src, h, limits, force, host);
        CheckDataArea(host);
        if (info.Incomplete) info.LostPages = (ulong)CountLost();
        else info.LostPages = 0;
        SetProducer();
    }

    private void ReadNotes(IByteSource src, KdumpHeader h, DumpLimits limits, bool force, EngineHost host)
    {
        string path = src.Path;
        if (h.HeaderVersion >= 4 && h.SizeNote > 0)
        {
            if (h.SizeNote > (ulong)limits.MaxNoteBytes) throw DumpErrors.Limit(path, "size_note", $"is {h.SizeNote} bytes (limit {limits.MaxNoteBytes})");
            if (h.OffsetNote <= 0 || h.OffsetNote + (long)h.SizeNote > src.Length)
                throw DumpErrors.Corrupt(path, "offset_note", $"(0x{h.OffsetNote:x}) + size_note ({h.SizeNote}) is outside the {src.Length}-byte file");
            var area = src.ReadArray(h.OffsetNote, (int)h.SizeNote, "ELF notes (offset_note)");
            var notes = ElfNotes.Parse(area, h.BigEndian, limits.MaxNotes, path);
            ElfNotes.Interpret(notes, Info, "kdump sub-header note", limits.MaxVmcoreInfoBytes);
        }
        if (Info.VmcoreInfo is null && h.HeaderVersion >= 3 && h.SizeVmcoreInfo > 0)
        {
            if (h.SizeVmcoreInfo > (ulong)limits.MaxVmcoreInfoBytes) throw DumpErrors.Limit(path, "size_vmcoreinfo", $"is {h.SizeVmcoreInfo} bytes (limit {limits.MaxVmcoreInfoBytes})");
            if (h.OffsetVmcoreInfo <= 0 || h.OffsetVmcoreInfo + (long)h.SizeVmcoreInfo > src.Length)
                throw DumpErrors.Corrupt(path, "offset_vmcoreinfo", $"(0x{h.OffsetVmcoreInfo:x}) + size_vmcoreinfo ({h.SizeVmcoreInfo}) is outside the {src.Length}-byte file");
            var text = src.ReadArray(h.OffsetVmcoreInfo, (int)h.SizeVmcoreInfo, "VMCOREINFO (offset_vmcoreinfo)");
            int nul = Array.IndexOf(text, (byte)0);
            Info.VmcoreInfo = new VmcoreInfo(Encoding.ASCII.GetString(text, 0, nul < 0 ? text.Length : nul), "kdump sub-header");
        }
    }

    private void SetProducer()
    {
        var info = Info;
        bool qemuNotes = info.Notes.Any(n => n.Name == "QEMU");
        if (Header.Release.Length == 0 && Header.Machine.Length > 0)
        {
            // QEMU fills only utsname.machine; makedumpfile copies the kernel's utsname.
            info.Producer = "QEMU dump-guest-memory";
            info.ProducerHints.Add("QEMU kdump (utsname empty except machine)");
        }
        else if (Header.Signature == "DISKDUMP") { info.Producer = "diskdump"; info.ProducerHints.Add("old diskdump signature"); }
        else
        {
            info.Producer = "makedumpfile";
            info.ProducerHints.Add($"makedumpfile kdump-compressed, dump level {Header.DumpLevel?.ToString() ?? "?"}");
            if (qemuNotes) info.ProducerHints.Add("input was a QEMU dump-guest-memory ELF (QEMU CPU state notes)");
        }
        if (Header.IsSplit) info.ProducerHints.Add("makedumpfile --split part");
        if ((Header.Status & KdumpHeader.StatusExcludedVmemmap) != 0) info.ProducerHints.Add("vmemmap pages excluded (-e)");
        if (Header.HeaderVersion >= 5 && Header.SizeEraseInfo > 0) info.ProducerHints.Add("holds eraseinfo (--config filtering)");
    }

    private long CountLost()
    {
        long inFile = DescriptorsInFile;
        long lost = _descCount - inFile;
        var buf = new byte[PageDescSize * 4096];
        for (long i = 0; i < inFile; i += 4096)
        {
            int n = (int)Math.Min(4096, inFile - i);
            int got = _src.Read(_descOffset + i * PageDescSize, buf.AsSpan(0, n * PageDescSize));
            int whole = got / PageDescSize;
            lost += n - whole;
            for (int k = 0; k < whole; k++)
            {
                long off = Bin.I64(buf, k * PageDescSize, Info.BigEndian);
                uint size = Bin.U32(buf, k * PageDescSize + 8, Info.BigEndian);
                if (off == 0 || off + size > _src.Length) lost++;
            }
        }
        return lost;
    }

    public PageStatus GetPageStatus(ulong pfn)
    {
        if (pfn >= MaxPfn || pfn < _start || pfn >= _end) return PageStatus.NotInDump;
        if (!_dumped.Get(pfn)) return _ram.Get(pfn) ? PageStatus.Excluded : PageStatus.NotInDump;
        return PageStatus.Present;
    }

    public PageStatus ReadPage(ulong pfn, Span<byte> destination) => ReadPage(pfn, destination, out _);

    public PageStatus ReadPage(ulong pfn, Span<byte> destination, out string? detail)
    {
        detail = null;
        var st = GetPageStatus(pfn);
        if (st != PageStatus.Present) return st;
        long index = _dumped.Rank(pfn) - _rankStart;
        Span<byte> d = stackalloc byte[PageDescSize];
        if (!TryGetDescriptorBytes(index, d))
        {
            detail = $"'{Path}': the page descriptor at 0x{DescPos(index):x} is past the end of the file";
            return PageStatus.Lost;
        }
        st = CheckDescriptor(index, d, out long offset, out int size, out var comp, out detail);
        if (st != PageStatus.Present) return st;
        var dest = destination[..PageSize];
        byte[]? rented = null;
        Span<byte> stored = size <= 8192 ? stackalloc byte[size] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(size)).AsSpan(0, size);
        try
        {
            if (_src.Read(offset, stored) != size)
            {
                detail = $"'{Path}': short read of {size} bytes at 0x{offset:x}";
                return Info.Incomplete ? PageStatus.Lost : PageStatus.Corrupt;
            }
            return Decode(offset, comp, stored, dest, out detail);
        }
        finally { if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented); }
    }

    private long DescPos(long index) => _descOffset + index * PageDescSize;

    /// <summary>Validates a page descriptor; Present when its data can be read at offset/size.</summary>
    private PageStatus CheckDescriptor(long index, ReadOnlySpan<byte> d, out long offset, out int size, out DumpCompression comp, out string? detail)
    {
        detail = null;
        bool be = Info.BigEndian;
        offset = Bin.I64(d, 0, be);
        uint usize = Bin.U32(d, 8, be), flags = Bin.U32(d, 12, be);
        size = (int)Math.Min(usize, int.MaxValue);
        comp = PageDecompressor.CompressionOf(flags);
        if (offset == 0)
        {
            if (Info.Incomplete) { detail = "the dump is incomplete and this page's descriptor was never written"; return PageStatus.Lost; }
            detail = $"'{Path}': the page descriptor at 0x{DescPos(index):x} has offset 0";
            return PageStatus.Corrupt;
        }
        if (offset < 0 || usize == 0 || usize > (uint)_maxStored)
        {
            detail = $"'{Path}': the page descriptor at 0x{DescPos(index):x} says {usize} bytes at offset 0x{offset:x} (page size {PageSize})";
            return PageStatus.Corrupt;
        }
        if (offset + size > _src.Length)
        {
            detail = $"'{Path}': the page's {size} bytes at 0x{offset:x} are past the end of the {_src.Length}-byte file";
            return Info.Incomplete ? PageStatus.Lost : PageStatus.Corrupt;
        }
        if (comp == DumpCompression.None && size != PageSize)
        {
            detail = $"'{Path}': the page at 0x{offset:x} is stored uncompressed but is {size} bytes, not {PageSize}";
            return PageStatus.Corrupt;
        }
        return PageStatus.Present;
    }

    /// <summary>Decompresses a page's stored bytes (read from file offset <paramref name="offset"/>) into dest.</summary>
    private PageStatus Decode(long offset, DumpCompression comp, ReadOnlySpan<byte> stored, Span<byte> dest, out string? detail)
    {
        var err = PageDecompressor.Decompress(comp, stored, dest);
        if (err is not null) { detail = $"'{Path}' at file offset 0x{offset:x}: {err}"; return PageStatus.Corrupt; }
        detail = null;
        return PageStatus.Present;
    }

    // A bounded, lock-free, direct-mapped cache of descriptor blocks for single-page reads: one positional read
    // brings DescPerBlock descriptors, so a walk over neighbouring pages costs one read per page (its data), not two.
    private const int DescPerBlock = 128, DescSlots = 64;
    private sealed class DescBlock(long block, byte[] bytes, int valid)
    {
        public readonly long Block = block;
        public readonly byte[] Bytes = bytes;
        public readonly int Valid = valid;
    }
    private readonly DescBlock?[] _descSlots = new DescBlock?[DescSlots];

    /// <summary>The 24 descriptor bytes of descriptor <paramref name="index"/>; false when the file ends before them.</summary>
    private bool TryGetDescriptorBytes(long index, Span<byte> d)
    {
        if (index < 0 || index >= _descCount) return false;
        long block = index / DescPerBlock;
        int slot = (int)(block % DescSlots);
        var b = Volatile.Read(ref _descSlots[slot]);
        if (b is null || b.Block != block)
        {
            long first = block * DescPerBlock;
            int n = (int)Math.Min(DescPerBlock, _descCount - first);
            var bytes = new byte[n * PageDescSize];
            int got = _src.Read(DescPos(first), bytes);
            b = new DescBlock(block, bytes, got);
            Volatile.Write(ref _descSlots[slot], b);
        }
        int at = (int)(index - block * DescPerBlock) * PageDescSize;
        if (at + PageDescSize > b.Valid) return false;
        b.Bytes.AsSpan(at, PageDescSize).CopyTo(d);
        return true;
    }

    internal IByteSource Source => _src;

    /// <summary>The page descriptor of a dumped pfn.</summary>
    internal bool TryGetDescriptor(ulong pfn, out long offset, out uint size, out uint flags)
    {
        offset = 0; size = 0; flags = 0;
        if (GetPageStatus(pfn) != PageStatus.Present) return false;
        Span<byte> d = stackalloc byte[PageDescSize];
        if (!TryGetDescriptorBytes(_dumped.Rank(pfn) - _rankStart, d)) return false;
        offset = Bin.I64(d, 0, Info.BigEndian); size = Bin.U32(d, 8, Info.BigEndian); flags = Bin.U32(d, 12, Info.BigEndian);
        return true;
    }

    /// <summary>Dumped pfns of this file, in order.</summary>
    internal IEnumerable<ulong> EnumerateDumpedPfns() => _dumped.Enumerate(_start, _end);

    public void Dispose() { if (_ownsSource) _src.Dispose(); }
}

internal static class KdumpCompressedReaderExtensions
{
    /// <summary>The stored (still compressed) bytes of up to <paramref name="maxBytes"/> of dumped pages, with their compression.</summary>
    public static List<(DumpCompression Compression, byte[] Stored)> ReadStoredPages(this KdumpCompressedReader r, IByteSource src, long maxBytes)
    {
        var list = new List<(DumpCompression, byte[])>();
        long total = 0;
        Span<byte> d = stackalloc byte[KdumpCompressedReader.PageDescSize];
        foreach (var pfn in r.EnumerateDumpedPfns())
        {
            if (!r.TryGetDescriptor(pfn, out long offset, out uint size, out uint flags)) continue;
            if (size == 0 || size > r.PageSize || offset <= 0 || offset + size > src.Length) continue;
            var b = new byte[size];
            if (src.Read(offset, b) != size) continue;
            list.Add((PageDecompressor.CompressionOf(flags), b));
            total += size;
            if (total >= maxBytes) break;
        }
        return list;
    }
}
