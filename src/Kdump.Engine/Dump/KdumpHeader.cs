namespace Kdump.Engine.Dump;

/// <summary>
/// disk_dump_header + kdump_sub_header of makedumpfile's kdump-compressed format, in the dumped machine's byte order
/// and word size (64-bit; 32-bit i386 packing; 32-bit ARM/MIPS 8-byte alignment). See SPEC 1.1.
/// </summary>
internal sealed class KdumpHeader
{
    public const int UtsFieldLength = 65;
    public const uint StatusZlib = 0x1, StatusLzo = 0x2, StatusSnappy = 0x4, StatusIncomplete = 0x8, StatusExcludedVmemmap = 0x10, StatusZstd = 0x20;

    public string Signature = "";
    public bool Is64, BigEndian;
    public string SubHeaderLayout = "64";
    public int HeaderVersion;
    public string SysName = "", NodeName = "", Release = "", Version = "", Machine = "", DomainName = "";
    public long TimestampSec, TimestampUsec;
    public uint Status;
    public int BlockSize, SubHdrSize, NrCpus;
    public uint BitmapBlocks, MaxMapnr32, TotalRamBlocks, DeviceBlocks, WrittenBlocks, CurrentCpu;
    // sub-header
    public long PhysBase;
    public int? DumpLevel, Split;
    public ulong StartPfn, EndPfn;
    public long OffsetVmcoreInfo, OffsetNote, OffsetEraseInfo;
    public ulong SizeVmcoreInfo, SizeNote, SizeEraseInfo;
    public ulong StartPfn64, EndPfn64, MaxMapnr64;

    public ulong MaxMapnr => HeaderVersion >= 6 && MaxMapnr64 != 0 ? MaxMapnr64 : MaxMapnr32;
    public bool IsSplit => Split is 1;
    public ulong SplitStart => HeaderVersion >= 6 ? StartPfn64 : StartPfn;
    public ulong SplitEnd => HeaderVersion >= 6 ? EndPfn64 : EndPfn;

    public static bool Sniff(ReadOnlySpan<byte> head) => head.Length >= 8 && (head[..8].SequenceEqual("KDUMP   "u8) || head[..8].SequenceEqual("DISKDUMP"u8));

    private static readonly string[] Known64 = { "x86_64", "aarch64", "arm64", "ppc64", "ppc64le", "s390x", "ia64", "riscv64", "loongarch64", "mips64", "sparc64", "alpha" };
    private static readonly string[] Known32 = { "i386", "i486", "i586", "i686", "x86", "arm", "armv7l", "armv6l", "ppc", "s390", "mips", "riscv32" };

    /// <summary>Parses both headers from the file start, detecting word size and byte order.</summary>
    public static KdumpHeader Read(IByteSource src)
    {
        string path = src.Path;
        var b = new byte[464];
        int got = src.Read(0, b);
        if (got < 464) throw DumpErrors.Truncated(path, "kdump-compressed header (disk_dump_header)", 0, 464);
        var h = new KdumpHeader { Signature = Bin.CString(b.AsSpan(0, 8)).TrimEnd() };
        int le = Bin.I32(b, 8, false), beV = Bin.I32(b, 8, true);
        h.BigEndian = !(le is >= 0 and < 1000) && beV is >= 0 and < 1000;
        h.HeaderVersion = Bin.I32(b, 8, h.BigEndian);
        if (h.HeaderVersion is < 0 or > 1000) throw DumpErrors.Corrupt(path, "header_version", $"is {le} (neither byte order gives a plausible version)");
        string Uts(int i) => Bin.CString(b.AsSpan(12 + i * UtsFieldLength, UtsFieldLength));
        (h.SysName, h.NodeName, h.Release, h.Version, h.Machine, h.DomainName) = (Uts(0), Uts(1), Uts(2), Uts(3), Uts(4), Uts(5));

        bool? is64 = Known64.Contains(h.Machine) ? true : Known32.Contains(h.Machine) ? false : null;
        if (is64 is null)
        {
            bool ok64 = PlausibleBlockSize(Bin.I32(b, 428, h.BigEndian)), ok32 = PlausibleBlockSize(Bin.I32(b, 416, h.BigEndian));
            is64 = ok64 || !ok32;
        }
        h.Is64 = is64.Value;
        bool be = h.BigEndian;
        if (h.Is64)
        {
            h.TimestampSec = Bin.I64(b, 408, be); h.TimestampUsec = Bin.I64(b, 416, be);
            h.Status = Bin.U32(b, 424, be); h.BlockSize = Bin.I32(b, 428, be); h.SubHdrSize = Bin.I32(b, 432, be);
            h.BitmapBlocks = Bin.U32(b, 436, be); h.MaxMapnr32 = Bin.U32(b, 440, be); h.TotalRamBlocks = Bin.U32(b, 444, be);
            h.DeviceBlocks = Bin.U32(b, 448, be); h.WrittenBlocks = Bin.U32(b, 452, be); h.CurrentCpu = Bin.U32(b, 456, be); h.NrCpus = Bin.I32(b, 460, be);
        }
        else
        {
            h.TimestampSec = Bin.I32(b, 404, be); h.TimestampUsec = Bin.I32(b, 408, be);
            h.Status = Bin.U32(b, 412, be); h.BlockSize = Bin.I32(b, 416, be); h.SubHdrSize = Bin.I32(b, 420, be);
            h.BitmapBlocks = Bin.U32(b, 424, be); h.MaxMapnr32 = Bin.U32(b, 428, be); h.TotalRamBlocks = Bin.U32(b, 432, be);
            h.DeviceBlocks = Bin.U32(b, 436, be); h.WrittenBlocks = Bin.U32(b, 440, be); h.CurrentCpu = Bin.U32(b, 444, be); h.NrCpus = Bin.I32(b, 448, be);
        }
        if (!PlausibleBlockSize(h.BlockSize))
            throw DumpErrors.Corrupt(path, "block_size", $"is {h.BlockSize} (must be a power of two from 512 to 1 MiB)");
        if (h.SubHdrSize < 0 || h.SubHdrSize > 1 << 20)
            throw DumpErrors.Corrupt(path, "sub_hdr_size", $"is {h.SubHdrSize} blocks");
        if (h.HeaderVersion >= 1 && h.SubHdrSize > 0) h.ReadSubHeader(src);
        return h;
    }

    private static bool PlausibleBlockSize(int v) => v is >= 512 and <= 1 << 20 && (v & (v - 1)) == 0;

    private void ReadSubHeader(IByteSource src)
    {
        var s = new byte[104];
        src.ReadExactly(BlockSize, s, "kdump sub-header");
        bool be = BigEndian;
        // offsets: phys_base, dump_level, split, start_pfn, end_pfn, off_vmcoreinfo, size_vmcoreinfo, off_note, size_note,
        //          off_eraseinfo, size_eraseinfo, start_pfn_64, end_pfn_64, max_mapnr_64
        int[] o;
        bool armPad = !Is64 && (Machine.StartsWith("arm", StringComparison.Ordinal) || Machine.StartsWith("mips", StringComparison.Ordinal));
        if (Is64) { o = new[] { 0, 8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96 }; SubHeaderLayout = "64"; }
        else if (armPad) { o = new[] { 0, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88 }; SubHeaderLayout = "32 (8-byte aligned)"; }
        else { o = new[] { 0, 4, 8, 12, 16, 20, 28, 32, 40, 44, 52, 56, 64, 72 }; SubHeaderLayout = "32 (packed)"; }
        ulong UL(int off) => Bin.ULong(s, off, be, Is64);
        PhysBase = Is64 ? Bin.I64(s, o[0], be) : Bin.I32(s, o[0], be);
        if (HeaderVersion >= 1) DumpLevel = Bin.I32(s, o[1], be);
        if (HeaderVersion >= 2) { Split = Bin.I32(s, o[2], be); StartPfn = UL(o[3]); EndPfn = UL(o[4]); }
        if (HeaderVersion >= 3) { OffsetVmcoreInfo = Bin.I64(s, o[5], be); SizeVmcoreInfo = UL(o[6]); }
        if (HeaderVersion >= 4) { OffsetNote = Bin.I64(s, o[7], be); SizeNote = UL(o[8]); }
        if (HeaderVersion >= 5) { OffsetEraseInfo = Bin.I64(s, o[9], be); SizeEraseInfo = UL(o[10]); }
        if (HeaderVersion >= 6) { StartPfn64 = Bin.U64(s, o[11], be); EndPfn64 = Bin.U64(s, o[12], be); MaxMapnr64 = Bin.U64(s, o[13], be); }
    }

    public DumpCompression Compression =>
        (Status & StatusZlib) != 0 ? DumpCompression.Zlib :
        (Status & StatusLzo) != 0 ? DumpCompression.Lzo :
        (Status & StatusSnappy) != 0 ? DumpCompression.Snappy :
        (Status & StatusZstd) != 0 ? DumpCompression.Zstd : DumpCompression.None;

    /// <summary>The fields that must agree between parts of one split set.</summary>
    public string Identity => $"{Release}|{Version}|{NodeName}|{Machine}|{TimestampSec}.{TimestampUsec}|{BlockSize}|{MaxMapnr}|{BitmapBlocks}";
}
