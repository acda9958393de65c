using System.Text;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Tests.Dwarf;

/// <summary>A DIE for <see cref="DwarfWriter"/>: tag, attributes (form + value) and children.</summary>
public sealed class Die
{
    internal static readonly object SiblingMarker = new();
    public ushort Tag;
    public readonly List<(ushort At, ushort Form, object? Value)> Attrs = new();
    public readonly List<Die> Children = new();
    internal int Offset, End;
    internal ulong Code;
    public Die(ushort tag) { Tag = tag; }
    /// <summary>Adds an attribute. Values: ulong/long/int for constants, string for strings, Die for references, byte[] for blocks.</summary>
    public Die A(ushort at, ushort form, object? value = null) { Attrs.Add((at, form, value)); return this; }
    public Die Name(string n, ushort form = DwForm.Strp) => A(DwAt.Name, form, n);
    public Die Type(Die t, ushort form = DwForm.Ref4) => A(DwAt.Type, form, t);
    public Die Size(ulong n) => A(DwAt.ByteSize, DwForm.Data1, n);
    public Die Add(params Die[] kids) { Children.AddRange(kids); return this; }
}

/// <summary>
/// Writes .debug_info/.debug_abbrev/.debug_str/.debug_str_offsets for DWARF 4 or 5 compile units built from
/// <see cref="Die"/> trees (one abbreviation table per unit; optional DW_AT_sibling on DIEs with children).
/// </summary>
public sealed class DwarfWriter
{
    private readonly List<(Die Root, int Version)> _units = new();
    private readonly MemoryStream _str = new();
    private readonly Dictionary<string, int> _strOffsets = new();
    private readonly List<int> _strx = new();
    public bool Siblings = true;

    public DwarfWriter() { _str.WriteByte(0); }

    public Die Unit(int version, string name = "test.c")
    {
        var root = new Die(DwTag.CompileUnit).Name(name).A(0x13 /*language*/, DwForm.Data1, 0x1dUL);
        _units.Add((root, version));
        return root;
    }

    private int Str(string s)
    {
        if (_strOffsets.TryGetValue(s, out int o)) return o;
        o = (int)_str.Length;
        _str.Write(Encoding.UTF8.GetBytes(s)); _str.WriteByte(0);
        _strOffsets[s] = o;
        return o;
    }

    private int StrIndex(string s) { int o = Str(s); int i = _strx.IndexOf(o); if (i < 0) { _strx.Add(o); i = _strx.Count - 1; } return i; }

    public (byte[] Info, byte[] Abbrev, byte[] Str, byte[] StrOffsets) Build()
    {
        var abbrev = new MemoryStream();
        var abbrevOffsets = new List<int>();
        var unitStarts = new List<int>();
        int off = 0;
        // Pass 1: abbreviations and layout of every unit (references may cross units).
        foreach (var (root, version) in _units)
        {
            abbrevOffsets.Add((int)abbrev.Length);
            var codes = new Dictionary<string, ulong>();
            AssignCodes(root, codes, abbrev);
            abbrev.WriteByte(0);
            unitStarts.Add(off);
            int pos = off + (version >= 5 ? 12 : 11);
            Layout(root, ref pos);
            off = pos;
        }
        var info = new MemoryStream();
        for (int u = 0; u < _units.Count; u++)
        {
            var (root, version) = _units[u];
            int start = unitStarts[u];
            int end = u + 1 < unitStarts.Count ? unitStarts[u + 1] : off;
            var w = new BinaryWriter(info);
            w.Write((uint)(end - start - 4));
            w.Write((ushort)version);
            if (version >= 5) { w.Write((byte)1); w.Write((byte)8); w.Write((uint)abbrevOffsets[u]); }
            else { w.Write((uint)abbrevOffsets[u]); w.Write((byte)8); }
            Emit(root, w, start);
            if (info.Length != end) throw new InvalidOperationException($"layout mismatch {info.Length} != {end}");
        }
        var so = new MemoryStream();
        var sw = new BinaryWriter(so);
        sw.Write((uint)(4 + 4 * _strx.Count)); sw.Write((ushort)5); sw.Write((ushort)0);
        foreach (var o in _strx) sw.Write((uint)o);
        return (info.ToArray(), abbrev.ToArray(), _str.ToArray(), so.ToArray());
    }

    private void AssignCodes(Die d, Dictionary<string, ulong> codes, MemoryStream abbrev)
    {
        if (Siblings && d.Children.Count > 0 && d.Tag != DwTag.CompileUnit && !d.Attrs.Any(a => a.At == DwAt.Sibling))
            d.Attrs.Insert(0, (DwAt.Sibling, DwForm.Ref4, Die.SiblingMarker));
        var key = $"{d.Tag}:{d.Children.Count > 0}:" + string.Join(",", d.Attrs.Select(a => $"{a.At}/{a.Form}" + (a.Form == DwForm.ImplicitConst ? $"={Convert.ToInt64(a.Value)}" : "")));
        if (!codes.TryGetValue(key, out var code))
        {
            code = (ulong)codes.Count + 1;
            codes[key] = code;
            Uleb(abbrev, code); Uleb(abbrev, d.Tag); abbrev.WriteByte(d.Children.Count > 0 ? (byte)1 : (byte)0);
            foreach (var a in d.Attrs)
            {
                Uleb(abbrev, a.At); Uleb(abbrev, a.Form);
                if (a.Form == DwForm.ImplicitConst) Sleb(abbrev, Convert.ToInt64(a.Value));
            }
            abbrev.WriteByte(0); abbrev.WriteByte(0);
        }
        d.Code = code;
        foreach (var c in d.Children) AssignCodes(c, codes, abbrev);
    }

    private void Layout(Die d, ref int pos)
    {
        d.Offset = pos;
        pos += UlebLen(d.Code);
        foreach (var a in d.Attrs) pos += ValueSize(a.Form, a.Value);
        if (d.Children.Count > 0)
        {
            foreach (var c in d.Children) Layout(c, ref pos);
            pos += 1;
        }
        d.End = pos;
    }

    private int ValueSize(ushort form, object? v) => form switch
    {
        DwForm.Data1 or DwForm.Flag or DwForm.Strx1 => 1,
        DwForm.Block1 => 1 + ((byte[])v!).Length,
        DwForm.Data2 => 2,
        DwForm.Data4 or DwForm.Strp or DwForm.Ref4 or DwForm.RefAddr or DwForm.SecOffset or DwForm.LineStrp => 4,
        DwForm.Data8 => 8,
        DwForm.Sdata => SlebLen(Convert.ToInt64(v)),
        DwForm.Udata => UlebLen(Convert.ToUInt64(v)),
        DwForm.String => Encoding.UTF8.GetByteCount((string)v!) + 1,
        DwForm.Exprloc => UlebLen((ulong)((byte[])v!).Length) + ((byte[])v!).Length,
        DwForm.FlagPresent or DwForm.ImplicitConst => 0,
        _ => throw new NotSupportedException($"form {form}"),
    };

    private void Emit(Die d, BinaryWriter w, int unitStart)
    {
        Uleb(w.BaseStream, d.Code);
        foreach (var (at, form, v) in d.Attrs)
        {
            switch (form)
            {
                case DwForm.Data1: w.Write((byte)Convert.ToUInt64(v)); break;
                case DwForm.Flag: w.Write((byte)Convert.ToUInt64(v)); break;
                case DwForm.Data2: w.Write((ushort)Convert.ToUInt64(v)); break;
                case DwForm.Data4: w.Write((uint)Convert.ToUInt64(v)); break;
                case DwForm.Data8: w.Write(Convert.ToUInt64(v)); break;
                case DwForm.SecOffset: w.Write((uint)Convert.ToUInt64(v)); break;
                case DwForm.Sdata: Sleb(w.BaseStream, Convert.ToInt64(v)); break;
                case DwForm.Udata: Uleb(w.BaseStream, Convert.ToUInt64(v)); break;
                case DwForm.String: w.Write(Encoding.UTF8.GetBytes((string)v!)); w.Write((byte)0); break;
                case DwForm.Strp: w.Write((uint)Str((string)v!)); break;
                case DwForm.Strx1: w.Write((byte)StrIndex((string)v!)); break;
                case DwForm.Ref4:
                    w.Write((uint)((ReferenceEquals(v, Die.SiblingMarker) ? d.End : ((Die)v!).Offset) - unitStart)); break;
                case DwForm.RefAddr: w.Write((uint)((Die)v!).Offset); break;
                case DwForm.Exprloc: { var b = (byte[])v!; Uleb(w.BaseStream, (ulong)b.Length); w.Write(b); break; }
                case DwForm.Block1: { var b = (byte[])v!; w.Write((byte)b.Length); w.Write(b); break; }
                case DwForm.FlagPresent or DwForm.ImplicitConst: break;
                default: throw new NotSupportedException($"form {form}");
            }
        }
        if (d.Children.Count > 0)
        {
            foreach (var c in d.Children) Emit(c, w, unitStart);
            w.Write((byte)0);
        }
    }

    private static int UlebLen(ulong v) { int n = 1; while ((v >>= 7) != 0) n++; return n; }
    private static int SlebLen(long v) { var ms = new MemoryStream(); Sleb(ms, v); return (int)ms.Length; }
    internal static void Uleb(Stream s, ulong v) { do { byte b = (byte)(v & 0x7f); v >>= 7; if (v != 0) b |= 0x80; s.WriteByte(b); } while (v != 0); }
    internal static void Sleb(Stream s, long v)
    {
        while (true)
        {
            byte b = (byte)(v & 0x7f); v >>= 7;
            bool done = v == 0 && (b & 0x40) == 0 || v == -1 && (b & 0x40) != 0;
            if (!done) b |= 0x80;
            s.WriteByte(b);
            if (done) return;
        }
    }
}
