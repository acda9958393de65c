using System.Runtime.CompilerServices;
namespace Kdump.Engine.Types.Dwarf;

/// <summary>Sizes of attribute forms and skipping of attribute values.</summary>
internal static class DwarfForms
{
    /// <summary>Size of a form's value when it does not depend on the data; -1 for variable-size forms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FixedSize(ushort form, int addressSize, bool is64, int version) => form switch
    {
        DwForm.Addr => addressSize,
        DwForm.Data1 or DwForm.Ref1 or DwForm.Flag or DwForm.Strx1 or DwForm.Addrx1 => 1,
        DwForm.Data2 or DwForm.Ref2 or DwForm.Strx2 or DwForm.Addrx2 => 2,
        DwForm.Strx3 or DwForm.Addrx3 => 3,
        DwForm.Data4 or DwForm.Ref4 or DwForm.RefSup4 or DwForm.Strx4 or DwForm.Addrx4 => 4,
        DwForm.Data8 or DwForm.Ref8 or DwForm.RefSig8 or DwForm.RefSup8 => 8,
        DwForm.Data16 => 16,
        DwForm.Strp or DwForm.LineStrp or DwForm.SecOffset or DwForm.StrpSup or DwForm.GnuRefAlt or DwForm.GnuStrpAlt => is64 ? 8 : 4,
        DwForm.RefAddr => version <= 2 ? addressSize : is64 ? 8 : 4,
        DwForm.FlagPresent or DwForm.ImplicitConst => 0,
        _ => -1,
    };

    /// <summary>Skips one attribute value of <paramref name="form"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Skip(ref DwarfCursor c, ushort form, DwarfUnit u)
    {
        int fixedSize = FixedSize(form, u.AddressSize, u.Is64, u.Version);
        if (fixedSize >= 0) { c.Skip((ulong)fixedSize); return; }
        switch (form)
        {
            case DwForm.String: c.SkipCString(); return;
            case DwForm.Block1: c.Skip(c.U8()); return;
            case DwForm.Block2: c.Skip(c.U16()); return;
            case DwForm.Block4: c.Skip(c.U32()); return;
            case DwForm.Block or DwForm.Exprloc: c.Skip(c.Uleb()); return;
            case DwForm.Sdata: c.Sleb(); return;
            case DwForm.Udata or DwForm.RefUdata or DwForm.Strx or DwForm.Addrx or DwForm.Loclistx or DwForm.Rnglistx
                or DwForm.GnuAddrIndex or DwForm.GnuStrIndex: c.Uleb(); return;
            case DwForm.Indirect:
                {
                    ulong f = c.Uleb();
                    if (f == DwForm.Indirect || f > ushort.MaxValue) throw DwarfErrors.Invalid("nested DW_FORM_indirect", c.Position);
                    Skip(ref c, (ushort)f, u); return;
                }
            default: throw DwarfErrors.Invalid($"unknown attribute form 0x{form:x}", c.Position);
        }
    }
}
