using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Tests.Writers;

/// <summary>
/// Writes a synthetic kdump-compressed file from a short description, laid out as makedumpfile does: header block,
/// sub-header + notes, two bitmaps, page descriptors, then page data (one shared zero page first when zero pages are
/// excluded). Any header version 1-6, 32/64-bit, either byte order, any compression, split parts, incomplete dumps.
/// </summary>
public sealed class KdumpCompressedWriter
{
    public int HeaderVersion { get; set; } = 6;
    public bool Is64 { get; set; } = true;
    public bool BigEndian { get; set; }
    public string Signature { get; set; } = "KDUMP   ";
    public int BlockSize { get; set; } = 4096;
    public ulong MaxMapnr { get; set; } = 256;
    public string Release { get; set; } = "6.1.0-test";
    public string Version { get; set; } = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0";
    public string NodeName { get; set; } = "testhost";
    public string Machine { get; set; } = "x86_64";
    public long Timestamp { get; set; } = 1_700_000_000;
    public DumpCompression Compression { get; set; } = DumpCompression.Zlib;
    public int DumpLevel { get; set; } = 31;
    public int NrCpus { get; set; } = 2;
    public uint CurrentCpu { get; set; }
    public long PhysBase { get; set; } = 0x1000000;
    public uint ExtraStatus { get; set; }
    /// <summary>RAM pfns (1st bitmap). Default: all below MaxMapnr except a hole at [160, 192).</summary>
    public Func<ulong, bool> IsRam { get; set; } = pfn => pfn < 160 || pfn >= 192;
    /// <summary>Dumped pfns (2nd bitmap). Default: RAM pfns not divisible by 7.</summary>
    public Func<ulong, bool> IsDumped { get; set; } = pfn => pfn % 7 != 0;
    /// <summary>Pages that are all zero (stored as the shared zero page). Default: pfn % 5 == 0.</summary>
    public Func<ulong, bool> IsZero { get; set; } = pfn => pfn % 5 == 0;
    /// <summary>Pages stored raw even when compression is on (makedumpfile does this when compression does not help).</summary>
    public Func<ulong, bool> StoreRaw { get; set; } = pfn => pfn % 11 == 0;
    public Func<ulong, byte[]> PageData { get; set; } = pfn => SyntheticMemory.Page(pfn);
    public string? VmcoreInfoText { get; set; } = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff8260a000\nKERNELOFFSET=1e000000\nNUMBER(phys_base)=16777216\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\n";
    /// <summary>Extra notes (NT_PRSTATUS ...) written before the VMCOREINFO note.</summary>
    public List<(string name, uint type, byte[] desc)> Notes { get; } = new();
    /// <summary>Split part range [start, end), or null for a whole dump.</summary>
    public (ulong start, ulong end)? Split { get; set; }
    /// <summary>Incomplete: only this many page descriptors are written (the rest stay zero), status |= 0x8.</summary>
    public long? WrittenDescriptors { get; set; }
    /// <summary>Per-pfn hook to corrupt stored bytes.</summary>
    public Func<ulong, byte[], byte[]>? Mangle { get; set; }

    public byte[] Build() { var s = new ImageSink(); Write(s); return s.ToArray(); }

    public void Write(IDumpSink sink)
    {
        bool be = BigEndian;
        int bs = BlockSize;
        var notes = BuildNotes();
        int subHdrBytes = 112;
        int subHdrBlocks = HeaderVersion >= 1 ? (int)((subHdrBytes + notes.Length + bs - 1) / bs) : 0;
        long bitmapBytesPer = ((long)((MaxMapnr + 7) / 8) + bs - 1) / bs * bs;
        uint bitmapBlocks = (uint)(2 * bitmapBytesPer / bs);
        long bitmapOff = (1L + subHdrBlocks) * bs;
        long descOff = bitmapOff + bitmapBlocks * (long)bs;
        ulong start = Split?.start ?? 0, end = Split?.end ?? MaxMapnr;

        var ram = new byte[bitmapBytesPer];
        var dumped = new byte[bitmapBytesPer];
        var pfns = new List<ulong>();
        for (ulong p = 0; p < MaxMapnr; p++)
        {
            if (!IsRam(p)) continue;
            ram[p >> 3] |= (byte)(1 << (int)(p & 7));
            if (IsDumped(p))
            {
                dumped[p >> 3] |= (byte)(1 << (int)(p & 7));
                if (p >= start && p < end) pfns.Add(p);
            }
        }
        long dataOff = descOff + pfns.Count * 24L;
        uint status = ExtraStatus | Compression switch
        {
            DumpCompression.Zlib => 1u, DumpCompression.Lzo => 2u, DumpCompression.Snappy => 4u, DumpCompression.Zstd => 0x20u, _ => 0u,
        };
        if (WrittenDescriptors is not null) status |= 0x8;

        // header
        var h = new byte[bs];
        Encoding.ASCII.GetBytes(Signature).CopyTo(h, 0);
        I32(h, 8, HeaderVersion);
        string[] uts = { "Linux", NodeName, Release, Version, Machine, "(none)" };
        for (int i = 0; i < 6; i++) Encoding.ASCII.GetBytes(uts[i]).AsSpan(0, Math.Min(64, uts[i].Length)).CopyTo(h.AsSpan(12 + i * 65));
        int o = Is64 ? 408 : 404;
        if (Is64) { I64(h, 408, Timestamp); I64(h, 416, 0); } else { I32(h, 404, (int)Timestamp); I32(h, 408, 0); }
        o = Is64 ? 424 : 412;
        I32(h, o, (int)status); I32(h, o + 4, bs); I32(h, o + 8, subHdrBlocks); I32(h, o + 12, (int)bitmapBlocks);
        I32(h, o + 16, (int)Math.Min(MaxMapnr, uint.MaxValue)); I32(h, o + 20, 0); I32(h, o + 24, 0); I32(h, o + 28, 0);
        I32(h, o + 32, (int)CurrentCpu); I32(h, o + 36, NrCpus);
        sink.Write(0, h);

        // sub-header + notes
        if (HeaderVersion >= 1)
        {
            var s = new byte[subHdrBlocks * bs];
            int[] off = Is64 ? new[] { 0, 8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96 } : new[] { 0, 4, 8, 12, 16, 20, 28, 32, 40, 44, 52, 56, 64, 72 };
            void UL(int at, ulong v) { if (Is64) I64(s, at, (long)v); else I32(s, at, (int)v); }
            if (Is64) I64(s, off[0], PhysBase); else I32(s, off[0], (int)PhysBase);
            I32(s, off[1], DumpLevel);
            long notesAt = bs + subHdrBytes;
            if (HeaderVersion >= 2) { I32(s, off[2], Split is null ? 0 : 1); UL(off[3], start); UL(off[4], end); }
            if (HeaderVersion >= 3 && VmcoreInfoSize > 0)
            {
                // offset_vmcoreinfo points at the VMCOREINFO descriptor inside the notes (v4+) or at the raw text (v3).
                int viDesc = HeaderVersion >= 4 ? VmcoreInfoDescOffset : 0;
                I64(s, off[5], notesAt + viDesc); UL(off[6], (ulong)VmcoreInfoSize);
            }
            if (HeaderVersion >= 4) { I64(s, off[7], notesAt); UL(off[8], (ulong)notes.Length); }
            if (HeaderVersion >= 6) { I64(s, off[11], (long)start); I64(s, off[12], (long)end); I64(s, off[13], (long)MaxMapnr); }
            var body = HeaderVersion >= 4 ? notes : Encoding.ASCII.GetBytes(VmcoreInfoText ?? "");
            if (subHdrBytes + body.Length > s.Length) throw new InvalidOperationException("notes do not fit the sub-header blocks");
            body.CopyTo(s, subHdrBytes);
            sink.Write(bs, s);
        }
        sink.Write(bitmapOff, ram);
        sink.Write(bitmapOff + bitmapBytesPer, dumped);

        // page data: the shared zero page first
        long cur = dataOff;
        long zeroOff = 0;
        bool zeroUsed = (DumpLevel & 1) != 0 && pfns.Any(p => IsZero(p));
        if (zeroUsed)
        {
            zeroOff = cur;
            var z = new byte[bs];
            sink.Write(cur, z);
            cur += bs;
        }
        var descs = new byte[24];
        for (int i = 0; i < pfns.Count; i++)
        {
            ulong p = pfns[i];
            long dOff; uint size, flags;
            if (WrittenDescriptors is long w && i >= w) continue;
            if (zeroUsed && IsZero(p)) { dOff = zeroOff; size = (uint)bs; flags = 0; }
            else
            {
                var page = IsZero(p) ? new byte[bs] : PageData(p);
                byte[] stored; flags = 0;
                if (Compression == DumpCompression.None || StoreRaw(p)) stored = page;
                else
                {
                    stored = CompressPage(Compression, page, out flags);
                    if (stored.Length >= bs) { stored = page; flags = 0; }
                }
                if (Mangle is not null) stored = Mangle(p, stored);
                dOff = cur; size = (uint)stored.Length;
                sink.Write(cur, stored);
                cur += stored.Length;
            }
            I64(descs, 0, dOff); I32(descs, 8, (int)size); I32(descs, 12, (int)flags); I64(descs, 16, 0);
            sink.Write(descOff + i * 24L, descs);
        }
        if (WrittenDescriptors is not null) sink.Write(descOff + pfns.Count * 24L - 1, new byte[1]); // full-length table of zeros
        void I32(byte[] b, int at, int v) { if (be) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), v); }
        void I64(byte[] b, int at, long v) { if (be) BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), v); }
    }

    private int VmcoreInfoDescOffset, VmcoreInfoSize;

    private byte[] BuildNotes()
    {
        var all = new List<(string, uint, byte[])>(Notes);
        if (VmcoreInfoText is not null) all.Add(("VMCOREINFO", 0, Encoding.ASCII.GetBytes(VmcoreInfoText)));
        var (bytes, offsets) = NoteWriter.Build(all, BigEndian);
        int vi = all.FindLastIndex(n => n.Item1 == "VMCOREINFO");
        VmcoreInfoDescOffset = vi >= 0 ? offsets[vi] : 0;
        VmcoreInfoSize = vi >= 0 ? all[vi].Item3.Length : 0;
        return bytes;
    }

    public static byte[] CompressPage(DumpCompression c, byte[] page, out uint flags)
    {
        switch (c)
        {
            case DumpCompression.Zlib:
                flags = 1;
                var ms = new MemoryStream();
                using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(page);
                return ms.ToArray();
            case DumpCompression.Lzo:
                flags = 2;
                return Lzo1xCompressor.Compress(page);
            case DumpCompression.Snappy:
                flags = 4;
                return Snappier.Snappy.CompressToArray(page);
            case DumpCompression.Zstd:
                flags = 0x20;
                using (var zc = new ZstdSharp.Compressor(1)) return zc.Wrap(page).ToArray();
            default:
                flags = 0;
                return page;
        }
    }
}

/// <summary>Builds an ELF note area (4-byte aligned name and descriptor).</summary>
public static class NoteWriter
{
    public static (byte[] bytes, int[] descOffsets) Build(IEnumerable<(string name, uint type, byte[] desc)> notes, bool bigEndian = false)
    {
        var ms = new MemoryStream();
        var offs = new List<int>();
        foreach (var (name, type, desc) in notes)
        {
            var nb = Encoding.ASCII.GetBytes(name + "\0");
            var hdr = new byte[12];
            W(hdr, 0, (uint)nb.Length); W(hdr, 4, (uint)desc.Length); W(hdr, 8, type);
            ms.Write(hdr);
            ms.Write(nb); Pad(ms);
            offs.Add((int)ms.Position);
            ms.Write(desc); Pad(ms);
        }
        return (ms.ToArray(), offs.ToArray());
        void W(byte[] b, int at, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v); }
        static void Pad(MemoryStream m) { while (m.Position % 4 != 0) m.WriteByte(0); }
    }

    /// <summary>An x86_64 NT_PRSTATUS descriptor (336 bytes) with pr_pid and the given registers.</summary>
    public static byte[] PrStatusX86_64(int pid, IReadOnlyDictionary<string, ulong> regs)
    {
        string[] names = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs" };
        var d = new byte[336];
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(32), pid);
        for (int i = 0; i < names.Length; i++)
            if (regs.TryGetValue(names[i], out var v)) BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(112 + i * 8), v);
        return d;
    }

    /// <summary>A QEMUCPUState descriptor (440 bytes) with rip, rsp, cr0/cr3/cr4, gs base and kernel_gs_base.</summary>
    public static byte[] QemuCpuState(ulong rip, ulong rsp, ulong cr3, ulong cr0 = 0x80050033, ulong cr4 = 0x3706f0, ulong gsBase = 0, ulong kernelGsBase = 0)
    {
        var d = new byte[440];
        BinaryPrimitives.WriteUInt32LittleEndian(d, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), 440);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(8 + 6 * 8), rsp);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(8 + 16 * 8), rip);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(152 + 4 * 24 + 16), gsBase);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(392), cr0);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(392 + 24), cr3);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(392 + 32), cr4);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(432), kernelGsBase);
        return d;
    }
}
