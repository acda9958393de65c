using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Kdump.Engine.Tests.Dwarf;

/// <summary>Writes small 64-bit little-endian ELF files (x86_64) with arbitrary sections, a symbol table and notes.</summary>
public sealed class ElfWriter
{
    public const uint ShtProgbits = 1, ShtSymtab = 2, ShtStrtab = 3, ShtNote = 7, ShtNobits = 8;
    public const ulong ShfWrite = 1, ShfAlloc = 2, ShfExec = 4, ShfCompressed = 0x800;

    public sealed class Section
    {
        public string Name = "";
        public uint Type = ShtProgbits;
        public ulong Flags;
        public ulong Address;
        public byte[] Data = [];
        public ulong NoBitsSize;
        public uint Link, Info;
        public ulong EntSize;
        public int Index;
    }

    public readonly List<Section> Sections = new();
    public ushort Machine = 62;
    private readonly List<(string Name, ulong Value, ulong Size, byte Info, string Section)> _symbols = new();

    public Section Add(string name, byte[] data, uint type = ShtProgbits, ulong flags = 0, ulong address = 0)
    {
        var s = new Section { Name = name, Data = data, Type = type, Flags = flags, Address = address };
        Sections.Add(s);
        return s;
    }

    /// <summary>Adds a section compressed as SHF_COMPRESSED with zlib (type 1) or zstd (type 2).</summary>
    public Section AddCompressed(string name, byte[] data, int type)
    {
        var ms = new MemoryStream();
        var hdr = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(hdr, (uint)type);
        BinaryPrimitives.WriteUInt64LittleEndian(hdr.AsSpan(8), (ulong)data.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(hdr.AsSpan(16), 1);
        ms.Write(hdr);
        if (type == 1) { using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data); }
        else { using var c = new ZstdSharp.Compressor(3); ms.Write(c.Wrap(data)); }
        return Add(name, ms.ToArray(), ShtProgbits, ShfCompressed);
    }

    /// <summary>A symbol: info = (bind &lt;&lt; 4) | type; section by name ("" = undefined, "*ABS*" = absolute).</summary>
    public void Symbol(string name, ulong value, ulong size, byte bind, byte type, string section) => _symbols.Add((name, value, size, (byte)(bind << 4 | type), section));

    public void BuildIdNote(byte[] id, string sectionName = ".notes")
    {
        var n = new MemoryStream();
        var w = new BinaryWriter(n);
        w.Write(4u); w.Write((uint)id.Length); w.Write(3u); w.Write("GNU\0"u8);
        w.Write(id); while (n.Length % 4 != 0) w.Write((byte)0);
        Add(sectionName, n.ToArray(), ShtNote, ShfAlloc, 0xffffffff82400000);
    }

    public byte[] Build()
    {
        var all = new List<Section> { new() { Name = "", Type = 0 } };
        all.AddRange(Sections);
        if (_symbols.Count > 0)
        {
            var strtab = new MemoryStream(); strtab.WriteByte(0);
            var symtab = new MemoryStream(); symtab.Write(new byte[24]);
            foreach (var s in _symbols)
            {
                var e = new byte[24];
                BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)strtab.Length);
                strtab.Write(Encoding.UTF8.GetBytes(s.Name)); strtab.WriteByte(0);
                e[4] = s.Info;
                ushort shndx = s.Section == "" ? (ushort)0 : s.Section == "*ABS*" ? (ushort)0xfff1 : (ushort)(all.FindIndex(x => x.Name == s.Section));
                BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(6), shndx);
                BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(8), s.Value);
                BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(16), s.Size);
                symtab.Write(e);
            }
            var st = new Section { Name = ".symtab", Type = ShtSymtab, Data = symtab.ToArray(), EntSize = 24 };
            var ss = new Section { Name = ".strtab", Type = ShtStrtab, Data = strtab.ToArray() };
            all.Add(st); all.Add(ss);
            st.Link = (uint)(all.Count - 1);
        }
        var shstr = new MemoryStream(); shstr.WriteByte(0);
        var nameOff = new List<uint>();
        var shs = new Section { Name = ".shstrtab", Type = ShtStrtab };
        all.Add(shs);
        foreach (var s in all) { nameOff.Add((uint)shstr.Length); if (s.Name.Length > 0) { shstr.Write(Encoding.UTF8.GetBytes(s.Name)); shstr.WriteByte(0); } }
        shs.Data = shstr.ToArray();

        var file = new MemoryStream();
        file.Write(new byte[64]);
        var offsets = new ulong[all.Count];
        for (int i = 1; i < all.Count; i++)
        {
            while (file.Length % 8 != 0) file.WriteByte(0);
            offsets[i] = (ulong)file.Length;
            if (all[i].Type != ShtNobits) file.Write(all[i].Data);
        }
        while (file.Length % 8 != 0) file.WriteByte(0);
        ulong shoff = (ulong)file.Length;
        for (int i = 0; i < all.Count; i++)
        {
            var s = all[i];
            var h = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(h, i == 0 ? 0 : nameOff[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), s.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), s.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(16), s.Address);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(24), offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(32), s.Type == ShtNobits ? (s.NoBitsSize != 0 ? s.NoBitsSize : (ulong)s.Data.Length) : (ulong)s.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), s.Link);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(44), s.Info);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(48), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(56), s.EntSize);
            file.Write(h);
        }
        var bytes = file.ToArray();
        var eh = bytes.AsSpan(0, 64);
        eh[0] = 0x7f; eh[1] = (byte)'E'; eh[2] = (byte)'L'; eh[3] = (byte)'F'; eh[4] = 2; eh[5] = 1; eh[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(eh[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(eh[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(eh[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(eh[40..], shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[58..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[60..], (ushort)all.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[62..], (ushort)(all.Count - 1));
        return bytes;
    }

    public string WriteTemp(string? dir = null, string name = "vmlinux")
    {
        dir ??= TempFiles.NewDirectory();
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, Build());
        return path;
    }
}
