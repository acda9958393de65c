using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;

namespace Kdump.Engine.Types.Dwarf;

/// <summary>
/// The DWARF sections of one ELF file and its unit headers, with DIE parsing. Sections are views over the
/// memory-mapped file (or inflated copies of compressed sections). Thread-safe for readers after construction.
/// </summary>
internal sealed class DwarfInfo
{
    private readonly ReadOnlyMemory<byte> _info, _abbrev, _str, _lineStr, _strOffsets;
    private readonly DwarfUnit[] _units;
    private readonly int[] _unitOffsets;
    private readonly Dictionary<ulong, int> _typeSignatures = new();

    public IReadOnlyList<DwarfUnit> Units => _units;
    public ReadOnlySpan<byte> InfoSpan => _info.Span;
    public int InfoLength => _info.Length;

    public DwarfInfo(ReadOnlyMemory<byte> info, ReadOnlyMemory<byte> abbrev, ReadOnlyMemory<byte> str,
        ReadOnlyMemory<byte> lineStr, ReadOnlyMemory<byte> strOffsets, CancellationToken cancel = default)
    {
        _info = info; _abbrev = abbrev; _str = str; _lineStr = lineStr; _strOffsets = strOffsets;
        var units = new List<DwarfUnit>();
        int off = 0;
        var span = info.Span;
        while (off < span.Length)
        {
            if ((units.Count & 255) == 0) cancel.ThrowIfCancellationRequested();
            if (span.Length - off < 11) break; // trailing padding
            if (units.Count >= DwarfUnit.MaxUnits) throw DwarfErrors.Invalid("too many units", off);
            var u = DwarfUnit.ReadHeader(span, off);
            units.Add(u);
            if (u.UnitType is DwarfUnit.UtType) _typeSignatures.TryAdd(u.TypeSignature, u.TypeDie);
            off = u.End;
        }
        _units = units.ToArray();
        _unitOffsets = units.Select(u => u.Offset).ToArray();
    }

    /// <summary>
    /// Parses the unit's abbreviation table and reads its unit DIE (DW_AT_str_offsets_base...) on first use.
    /// Done per unit so the index build spreads this work over its threads.
    /// </summary>
    public void EnsureReady(DwarfUnit u)
    {
        if (u.Ready) return;
        lock (u)
        {
            if (u.Ready) return;
            var key = (u.AbbrevOffset, u.AddressSize, u.Is64, u.Version);
            var table = _abbrevTables.GetOrAdd(key, k => new Lazy<DwarfAbbrevTable>(
                () => DwarfAbbrevTable.Parse(_abbrev.Span, k.Item1, k.Item2, k.Item3, k.Item4), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
            u.Abbrevs = table;
            if (u.FirstDie < u.End)
            {
                var c = Cursor(u.FirstDie, u);
                ReadDie(ref c, u, out _);
            }
            u.Ready = true;
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ulong, int, bool, int), Lazy<DwarfAbbrevTable>> _abbrevTables = new();

    public DwarfCursor Cursor(int position, DwarfUnit u)
    {
        var c = new DwarfCursor(_info.Span, position);
        c.Limit(u.End);
        return c;
    }

    /// <summary>The unit containing .debug_info offset <paramref name="offset"/>.</summary>
    public DwarfUnit UnitAt(int offset)
    {
        int i = Array.BinarySearch(_unitOffsets, offset);
        if (i < 0) i = ~i - 1;
        if (i < 0 || offset >= _units[i].End || offset < _units[i].FirstDie) throw DwarfErrors.Invalid("DIE reference outside every unit", offset);
        EnsureReady(_units[i]);
        return _units[i];
    }

    /// <summary>Parses the DIE at <paramref name="offset"/>.</summary>
    public DwarfDie DieAt(int offset)
    {
        var u = UnitAt(offset);
        var c = Cursor(offset, u);
        var d = ReadDie(ref c, u, out bool isNull);
        if (isNull) throw DwarfErrors.Invalid("reference to a null DIE", offset);
        return d;
    }

    /// <summary>Reads one DIE at the cursor; <paramref name="isNull"/> is set for the 0 code that ends a sibling list.</summary>
    public DwarfDie ReadDie(ref DwarfCursor c, DwarfUnit u, out bool isNull)
    {
        int off = c.Position;
        ulong code = c.Uleb();
        if (code == 0) { isNull = true; return default; }
        isNull = false;
        if (!u.Abbrevs.TryGet(code, out var ab)) throw DwarfErrors.Invalid($"unknown abbreviation code {code}", off);
        var d = new DwarfDie { Offset = off, Unit = u, Tag = ab.Tag, HasChildren = ab.HasChildren, Sibling = -1, Type = -1, Specification = -1 };
        var specs = new DwarfSpecReader(_abbrev.Span, ab.SpecOffset);
        for (int i = 0; i < ab.AttributeCount; i++)
        {
            specs.Next(out var at, out var form, out var ic);
            ReadAttribute(ref c, u, at, form, ic, ref d);
        }
        d.AttributesEnd = c.Position;
        return d;
    }

    /// <summary>Looks up the abbreviation of the DIE at the cursor without moving it; false at a null entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool PeekAbbrev(DwarfCursor c, DwarfUnit u, out DwarfAbbrev ab)
    {
        int off = c.Position;
        ulong code = c.Uleb();
        if (code == 0) { ab = default; return false; }
        if (!u.Abbrevs.TryGet(code, out ab)) throw DwarfErrors.Invalid($"unknown abbreviation code {code}", off);
        return true;
    }

    /// <summary>Skips one DIE and, when it has children, its whole subtree (via DW_AT_sibling when present). Returns false at a null entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool SkipDie(ref DwarfCursor c, DwarfUnit u)
    {
        int depth = 0;
        do
        {
            int off = c.Position;
            ulong code = c.Uleb();
            if (code == 0)
            {
                if (depth == 0) return false;
                depth--;
                continue;
            }
            if (!u.Abbrevs.TryGet(code, out var ab)) throw DwarfErrors.Invalid($"unknown abbreviation code {code}", off);
            if (ab.HasChildren && ab.HasSibling)
            {
                ScanAttributes(ref c, u, in ab, out var d);
                if (d.Sibling > off && d.Sibling <= u.End) { c.Position = d.Sibling; continue; }
            }
            else if (ab.FixedSize >= 0) c.Skip((ulong)ab.FixedSize);
            else
            {
                var specs = new DwarfSpecReader(_abbrev.Span, ab.SpecOffset);
                for (int i = 0; i < ab.AttributeCount; i++)
                {
                    specs.Next(out _, out var form, out _);
                    if (form == DwForm.Indirect) { ulong f = c.Uleb(); if (f is DwForm.Indirect or > ushort.MaxValue) throw DwarfErrors.Invalid("nested DW_FORM_indirect", c.Position); form = (ushort)f; }
                    DwarfForms.Skip(ref c, form, u);
                }
            }
            if (ab.HasChildren) depth++;
            if (depth > 4096) throw DwarfErrors.Invalid("DIE tree is nested too deeply", off);
        } while (depth > 0);
        return true;
    }

    /// <summary>
    /// Reads only what the name index needs (name, sibling, declaration) and leaves the cursor after the DIE's
    /// attributes. When every value has a fixed size the three are read at precomputed offsets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ScanAttributes(ref DwarfCursor c, DwarfUnit u, in DwarfAbbrev ab, out DwarfScanDie s)
    {
        s = default;
        s.Sibling = -1;
        s.HasType = ab.HasType;
        s.HasByteSize = ab.HasByteSize;
        if (ab.ScanFixed)
        {
            int start = c.Position;
            if (ab.HasName) { c.Position = start + ab.NameAt; ScanAttribute(ref c, u, DwAt.Name, ab.NameForm, 0, ref s); }
            if (ab.HasSibling) { c.Position = start + ab.SiblingAt; ScanAttribute(ref c, u, DwAt.Sibling, ab.SiblingForm, 0, ref s); }
            if (ab.HasDeclaration) { c.Position = start + ab.DeclarationAt; ScanAttribute(ref c, u, DwAt.Declaration, ab.DeclarationForm, ab.DeclarationImplicit, ref s); }
            c.Position = start;
            c.Skip((ulong)ab.FixedSize);
            return;
        }
        var specs = new DwarfSpecReader(_abbrev.Span, ab.SpecOffset);
        for (int i = 0; i < ab.AttributeCount; i++)
        {
            specs.Next(out var at, out var form, out var ic);
            if (at is DwAt.Name or DwAt.Sibling or DwAt.Declaration || form == DwForm.Indirect)
                ScanAttribute(ref c, u, at, form, ic, ref s);
            else DwarfForms.Skip(ref c, form, u);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScanAttribute(ref DwarfCursor c, DwarfUnit u, ushort at, ushort form, long implicitConst, ref DwarfScanDie s)
    {
        if (form == DwForm.Indirect)
        {
            ulong f = c.Uleb();
            if (f == DwForm.Indirect || f > ushort.MaxValue) throw DwarfErrors.Invalid("nested DW_FORM_indirect", c.Position);
            form = (ushort)f;
        }
        switch (at)
        {
            case DwAt.Name: ReadString(ref c, u, form, out s.NameSection, out s.NameOffset); return;
            case DwAt.Sibling: s.Sibling = ReadRef(ref c, u, form); return;
            case DwAt.Declaration: s.Declaration = ReadFlag(ref c, u, form, implicitConst); return;
            default: DwarfForms.Skip(ref c, form, u); return;
        }
    }

    private void ReadAttribute(ref DwarfCursor c, DwarfUnit u, ushort at, ushort form, long implicitConst, ref DwarfDie d)
    {
        if (form == DwForm.Indirect)
        {
            ulong f = c.Uleb();
            if (f == DwForm.Indirect || f > ushort.MaxValue) throw DwarfErrors.Invalid("nested DW_FORM_indirect", c.Position);
            form = (ushort)f;
        }
        switch (at)
        {
            case DwAt.Sibling: d.Sibling = ReadRef(ref c, u, form); return;
            case DwAt.Type: d.Type = ReadRef(ref c, u, form); return;
            case DwAt.Specification: d.Specification = ReadRef(ref c, u, form); return;
            case DwAt.Name: ReadString(ref c, u, form, out d.NameSection, out d.NameOffset); return;
            case DwAt.Declaration: d.Declaration = ReadFlag(ref c, u, form, implicitConst); return;
            case DwAt.External: d.External = ReadFlag(ref c, u, form, implicitConst); return;
            case DwAt.Encoding: d.Encoding = (byte)(ReadConst(ref c, u, form, implicitConst)?.Raw ?? 0); return;
            case DwAt.ByteSize: d.ByteSize = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.BitSize: d.BitSize = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.BitOffset: d.BitOffset = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.DataBitOffset: d.DataBitOffset = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.ConstValue: d.ConstValue = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.UpperBound: d.UpperBound = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.LowerBound: d.LowerBound = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.Count: d.Count = ReadConst(ref c, u, form, implicitConst); return;
            case DwAt.DataMemberLocation:
                if (form is DwForm.Exprloc or DwForm.Block or DwForm.Block1 or DwForm.Block2 or DwForm.Block4)
                    d.MemberLocation = EvaluateMemberLocation(ref c, form);
                else if (form == DwForm.SecOffset || (u.Version == 3 && form is DwForm.Data4 or DwForm.Data8))
                    { DwarfForms.Skip(ref c, form, u); d.MemberLocation = null; } // location list: not a fixed offset
                else if (ReadConst(ref c, u, form, implicitConst) is { } k) d.MemberLocation = k.Raw;
                return;
            case DwAt.StrOffsetsBase when form == DwForm.SecOffset: u.StrOffsetsBase = c.Offset(u.Is64); return;
            case DwAt.AddrBase when form == DwForm.SecOffset: u.AddrBase = c.Offset(u.Is64); return;
            default: DwarfForms.Skip(ref c, form, u); return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ReadRef(ref DwarfCursor c, DwarfUnit u, ushort form)
    {
        ulong v;
        switch (form)
        {
            case DwForm.Ref1: v = c.U8(); break;
            case DwForm.Ref2: v = c.U16(); break;
            case DwForm.Ref4: v = c.U32(); break;
            case DwForm.Ref8: v = c.U64(); break;
            case DwForm.RefUdata: v = c.Uleb(); break;
            case DwForm.RefAddr:
                {
                    ulong a = u.Version <= 2 ? c.Sized(u.AddressSize) : c.Offset(u.Is64);
                    return a < (ulong)_info.Length ? (int)a : throw DwarfErrors.Invalid("DW_FORM_ref_addr outside .debug_info", c.Position);
                }
            case DwForm.RefSig8:
                return _typeSignatures.TryGetValue(c.U64(), out var t) ? t : -1;
            default: DwarfForms.Skip(ref c, form, u); return -1; // supplementary/alternate files: not available
        }
        if (v >= (ulong)(u.End - u.Offset)) throw DwarfErrors.Invalid("DIE reference outside its unit", c.Position);
        return u.Offset + (int)v;
    }

    private static bool ReadFlag(ref DwarfCursor c, DwarfUnit u, ushort form, long implicitConst)
    {
        switch (form)
        {
            case DwForm.FlagPresent: return true;
            case DwForm.Flag: return c.U8() != 0;
            case DwForm.ImplicitConst: return implicitConst != 0;
            default: DwarfForms.Skip(ref c, form, u); return true;
        }
    }

    private static DwarfConst? ReadConst(ref DwarfCursor c, DwarfUnit u, ushort form, long implicitConst)
    {
        switch (form)
        {
            case DwForm.Data1: return new DwarfConst(c.U8(), false, 1);
            case DwForm.Data2: return new DwarfConst(c.U16(), false, 2);
            case DwForm.Data4: return new DwarfConst(c.U32(), false, 4);
            case DwForm.Data8: return new DwarfConst(c.U64(), false, 8);
            case DwForm.Sdata: return new DwarfConst(unchecked((ulong)c.Sleb()), true, 8);
            case DwForm.Udata: return new DwarfConst(c.Uleb(), false, 8);
            case DwForm.ImplicitConst: return new DwarfConst(unchecked((ulong)implicitConst), true, 8);
            default: DwarfForms.Skip(ref c, form, u); return null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadString(ref DwarfCursor c, DwarfUnit u, ushort form, out DwarfStringSection section, out ulong offset)
    {
        switch (form)
        {
            case DwForm.String: section = DwarfStringSection.Info; offset = (ulong)c.SkipCString(); return;
            case DwForm.Strp: section = DwarfStringSection.Str; offset = c.Offset(u.Is64); return;
            case DwForm.LineStrp: section = DwarfStringSection.LineStr; offset = c.Offset(u.Is64); return;
            case DwForm.Strx or DwForm.GnuStrIndex: StrIndex(c.Uleb(), u, out section, out offset); return;
            case DwForm.Strx1: StrIndex(c.U8(), u, out section, out offset); return;
            case DwForm.Strx2: StrIndex(c.U16(), u, out section, out offset); return;
            case DwForm.Strx3: StrIndex(c.U24(), u, out section, out offset); return;
            case DwForm.Strx4: StrIndex(c.U32(), u, out section, out offset); return;
            default: DwarfForms.Skip(ref c, form, u); section = DwarfStringSection.None; offset = 0; return;
        }
    }

    private void StrIndex(ulong index, DwarfUnit u, out DwarfStringSection section, out ulong offset)
    {
        var so = _strOffsets.Span;
        int size = u.OffsetSize;
        if (index > (ulong)so.Length / (ulong)size) { section = DwarfStringSection.None; offset = 0; return; }
        ulong at = u.StrOffsetsBase + index * (ulong)size;
        if (at > (ulong)(so.Length - size)) { section = DwarfStringSection.None; offset = 0; return; }
        offset = size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(so[(int)at..]) : BinaryPrimitives.ReadUInt32LittleEndian(so[(int)at..]);
        section = DwarfStringSection.Str;
    }

    /// <summary>Evaluates the expressions compilers emit for member offsets (DW_OP_plus_uconst N, constants).</summary>
    private static ulong? EvaluateMemberLocation(ref DwarfCursor c, ushort form)
    {
        ulong len = form switch
        {
            DwForm.Block1 => c.U8(), DwForm.Block2 => c.U16(), DwForm.Block4 => c.U32(), _ => c.Uleb(),
        };
        int start = c.Position;
        c.Skip(len);
        var e = new DwarfCursor(c.Data, start, start + (int)len);
        Span<ulong> stack = stackalloc ulong[8];
        int sp = 0;
        stack[sp++] = 0; // the struct's base address
        while (!e.AtEnd)
        {
            byte op = e.U8();
            ulong push;
            switch (op)
            {
                case DwOp.PlusUconst: stack[sp - 1] += e.Uleb(); continue;
                case 0x22: if (sp < 2) return null; stack[sp - 2] += stack[sp - 1]; sp--; continue; // DW_OP_plus
                case 0x1c: if (sp < 2) return null; stack[sp - 2] -= stack[sp - 1]; sp--; continue; // DW_OP_minus
                case DwOp.Constu: push = e.Uleb(); break;
                case DwOp.Consts: push = unchecked((ulong)e.Sleb()); break;
                case DwOp.Const1u: push = e.U8(); break;
                case DwOp.Const2u: push = e.U16(); break;
                case DwOp.Const4u: push = e.U32(); break;
                case DwOp.Const8u: push = e.U64(); break;
                case DwOp.Const1s: push = unchecked((ulong)(sbyte)e.U8()); break;
                case DwOp.Const2s: push = unchecked((ulong)(short)e.U16()); break;
                case DwOp.Const4s: push = unchecked((ulong)(int)e.U32()); break;
                case DwOp.Const8s: push = e.U64(); break;
                case >= DwOp.Lit0 and <= DwOp.Lit31: push = (ulong)(op - DwOp.Lit0); break;
                default: return null;
            }
            if (sp >= stack.Length) return null;
            stack[sp++] = push;
        }
        // "DW_OP_constu N" alone (no base pushed by us in DWARF 2 style plus) means offset N.
        return sp == 2 && stack[0] == 0 ? stack[1] : stack[sp - 1];
    }

    /// <summary>The bytes of a string attribute (without the NUL); empty when out of range.</summary>
    public ReadOnlySpan<byte> StringBytes(DwarfStringSection section, ulong offset)
    {
        var s = section switch
        {
            DwarfStringSection.Str => _str.Span,
            DwarfStringSection.LineStr => _lineStr.Span,
            DwarfStringSection.Info => _info.Span,
            _ => default,
        };
        if (offset >= (ulong)s.Length) return default;
        var rest = s[(int)offset..];
        int n = rest.IndexOf((byte)0);
        return n < 0 ? default : rest[..n];
    }

    public string? Name(in DwarfDie d) => d.HasName ? Encoding.UTF8.GetString(StringBytes(d.NameSection, d.NameOffset)) : null;
}
