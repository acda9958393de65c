using System.Buffers.Binary;
using System.Text;

namespace Kdump.Engine.Tests.Writers;

/// <summary>
/// Writes a synthetic ELF64 vmcore: the kernel's layout (ehdr, phdrs, one PT_NOTE, PT_LOADs), makedumpfile -E
/// sparse segments, QEMU's (PN_XNUM with section 0's sh_info; QEMU 7.2's section header table before the phdrs).
/// </summary>
public sealed class ElfVmcoreWriter
{
    public sealed record Load(ulong Paddr, ulong Vaddr, ulong MemSize, ulong FileSize, Func<ulong, byte[]>? Data = null);

    public ushort Machine { get; set; } = 62;
    public uint Flags { get; set; }
    public int PageSize { get; set; } = 4096;
    public List<(string name, uint type, byte[] desc)> Notes { get; } = new();
    public List<Load> Loads { get; } = new();
    /// <summary>Write e_phnum = PN_XNUM and the real count in section 0's sh_info even below 0xffff.</summary>
    public bool ForcePnXnum { get; set; }
    /// <summary>QEMU 7.2: the section header table at 0x40 and the program headers after it.</summary>
    public bool SectionHeadersFirst { get; set; }
    /// <summary>Truncate the file to this many bytes.</summary>
    public long? TruncateTo { get; set; }
    public Func<ulong, byte[]> PageData { get; set; } = pfn => SyntheticMemory.Page(pfn);

    public ElfVmcoreWriter AddVmcoreInfo(string text) { Notes.Add(("VMCOREINFO", 0, Encoding.ASCII.GetBytes(text))); return this; }

    /// <summary>A RAM range with its data (fileSize = memSize unless given: the tail is excluded, as makedumpfile -E writes).</summary>
    public ElfVmcoreWriter AddRam(ulong paddr, ulong size, ulong? vaddr = null, ulong? fileSize = null)
    {
        Loads.Add(new Load(paddr, vaddr ?? paddr, size, fileSize ?? size));
        return this;
    }

    public byte[] Build()
    {
        int phnum = Loads.Count + 1;
        bool xnum = ForcePnXnum || phnum >= 0xffff;
        bool sh = xnum || SectionHeadersFirst;
        long shoff = 0, phoff = 64;
        if (sh && SectionHeadersFirst) { shoff = 64; phoff = 64 + 64; }
        var (notes, _) = NoteWriter.Build(Notes);
        long notesOff = phoff + phnum * 56L;
        long tail = notesOff + notes.Length;
        if (sh && !SectionHeadersFirst) { shoff = tail; tail += 64; }
        long dataOff = (tail + PageSize - 1) / PageSize * PageSize;

        var ms = new MemoryStream();
        var eh = new byte[64];
        eh[0] = 0x7f; eh[1] = (byte)'E'; eh[2] = (byte)'L'; eh[3] = (byte)'F'; eh[4] = 2; eh[5] = 1; eh[6] = 1;
        U16(eh, 16, 4); U16(eh, 18, Machine); U32(eh, 20, 1);
        U64(eh, 32, (ulong)phoff); U64(eh, 40, sh ? (ulong)shoff : 0); U32(eh, 48, Flags);
        U16(eh, 52, 64); U16(eh, 54, 56); U16(eh, 56, (ushort)(xnum ? 0xffff : phnum));
        U16(eh, 58, (ushort)(sh ? 64 : 0)); U16(eh, 60, (ushort)(sh ? 1 : 0)); U16(eh, 62, 0);
        ms.Write(eh);
        var shdr = new byte[64];
        if (sh) { U32(shdr, 44, (uint)phnum); U32(shdr, 40, 0); }
        if (sh && SectionHeadersFirst) ms.Write(shdr);

        var ph = new byte[phnum * 56];
        U32(ph, 0, 4); U64(ph, 8, (ulong)notesOff); U64(ph, 32, (ulong)notes.Length); U64(ph, 40, (ulong)notes.Length);
        long cur = dataOff;
        var data = new List<(long off, Load l)>();
        for (int i = 0; i < Loads.Count; i++)
        {
            var l = Loads[i];
            int at = (i + 1) * 56;
            U32(ph, at, 1); U32(ph, at + 4, 7); U64(ph, at + 8, (ulong)cur); U64(ph, at + 16, l.Vaddr); U64(ph, at + 24, l.Paddr);
            U64(ph, at + 32, l.FileSize); U64(ph, at + 40, l.MemSize); U64(ph, at + 48, (ulong)PageSize);
            data.Add((cur, l));
            cur += (long)l.FileSize;
        }
        ms.Write(ph);
        ms.Write(notes);
        if (sh && !SectionHeadersFirst) ms.Write(shdr);
        foreach (var (off, l) in data)
        {
            ms.SetLength(Math.Max(ms.Length, off));
            ms.Position = off;
            var buf = new byte[l.FileSize];
            for (ulong a = 0; a < l.FileSize;)
            {
                ulong addr = l.Paddr + a;
                ulong pfn = addr / (ulong)PageSize, inPage = addr % (ulong)PageSize;
                var page = (l.Data ?? PageData)(pfn);
                ulong n = Math.Min((ulong)PageSize - inPage, l.FileSize - a);
                page.AsSpan((int)inPage, (int)n).CopyTo(buf.AsSpan((int)a));
                a += n;
            }
            ms.Write(buf);
        }
        var bytes = ms.ToArray();
        return TruncateTo is long t ? bytes[..(int)t] : bytes;

        static void U16(byte[] b, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), v);
        static void U32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
        static void U64(byte[] b, int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
    }
}

/// <summary>
/// Writes a flattened stream (makedumpfile -F): a 4096-byte header, then big-endian {offset, size} records and data.
/// Records come from a plain image cut into pieces, in order or shuffled; overlaps and absurd records can be injected.
/// </summary>
public sealed class FlattenedWriter
{
    public int ChunkSize { get; set; } = 4096;
    public bool Shuffle { get; set; } = true;
    public bool EndMarker { get; set; } = true;
    public List<(long offset, byte[] data)> ExtraRecords { get; } = new();
    public List<(long offset, long size)> RawRecordHeaders { get; } = new();

    public byte[] Build(byte[] image)
    {
        var recs = new List<(long off, byte[] data)>();
        for (long o = 0; o < image.Length; o += ChunkSize)
        {
            var piece = image.AsSpan((int)o, (int)Math.Min(ChunkSize, image.Length - o));
            if (piece.IndexOfAnyExcept((byte)0) < 0 && o + piece.Length < image.Length) continue; // holes are not written
            recs.Add((o, piece.ToArray()));
        }
        if (Shuffle)
        {
            // Deterministic interleave: even records first, then odd (descriptors and data arrive out of order).
            recs = recs.Where((_, i) => i % 2 == 0).Concat(recs.Where((_, i) => i % 2 == 1)).ToList();
        }
        recs.AddRange(ExtraRecords);
        var ms = new MemoryStream();
        var h = new byte[4096];
        Encoding.ASCII.GetBytes("makedumpfile").CopyTo(h, 0);
        BinaryPrimitives.WriteInt64BigEndian(h.AsSpan(16), 1);
        BinaryPrimitives.WriteInt64BigEndian(h.AsSpan(24), 1);
        ms.Write(h);
        var rh = new byte[16];
        foreach (var (off, data) in recs)
        {
            BinaryPrimitives.WriteInt64BigEndian(rh, off);
            BinaryPrimitives.WriteInt64BigEndian(rh.AsSpan(8), data.Length);
            ms.Write(rh);
            ms.Write(data);
        }
        foreach (var (off, size) in RawRecordHeaders)
        {
            BinaryPrimitives.WriteInt64BigEndian(rh, off);
            BinaryPrimitives.WriteInt64BigEndian(rh.AsSpan(8), size);
            ms.Write(rh);
        }
        if (EndMarker)
        {
            BinaryPrimitives.WriteInt64BigEndian(rh, -1);
            BinaryPrimitives.WriteInt64BigEndian(rh.AsSpan(8), 0);
            ms.Write(rh);
        }
        return ms.ToArray();
    }
}
