using System.Collections;
using System.Management.Automation;
using Kdump.Engine;

namespace Kdump.PowerShell;

/// <summary>
/// Lets address parameters take what crash users type and what other cmdlets write. PowerShell parses
/// <c>0xffffffffb001aa40</c> as a negative Int64 and <c>0x80000000</c> as a negative Int32; both are reinterpreted
/// as the unsigned address they spell. Strings are hexadecimal, with or without <c>0x</c> (crash prints addresses
/// without it); <c>0n123</c> is decimal. A <see cref="KernelAddress"/> is taken as is, and an object with an
/// Address property (Get-CrashSymbol's symbols, Get-CrashObject's objects) gives that address. Works for
/// <c>ulong</c> and <c>ulong[]</c> parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AddressTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is string or not IEnumerable) return Convert(inputData);
        var list = new List<ulong>();
        foreach (var item in (IEnumerable)value) list.Add(Convert(item));
        return list.ToArray();
    }

    public static ulong Convert(object? input)
    {
        var value = input is PSObject pso ? pso.BaseObject : input;
        if (value is null) throw new ArgumentTransformationMetadataException("An address cannot be null.");
        if (KernelAddress.From(value) is { } a) return a;
        if (value is string s)
            throw new ArgumentTransformationMetadataException(
                $"'{s}' is not an address: give hexadecimal (ffffffff81000000 or 0xffffffff81000000) or decimal with 0n (0n4096).");
        // An object with an Address property (KSymbol, CrashObject, CrashSymbolLookup ...): its address.
        var prop = (input as PSObject ?? PSObject.AsPSObject(value)).Properties["Address"];
        if (prop is not null && prop.Value is { } inner && KernelAddress.From(inner is PSObject p ? p.BaseObject : inner) is { } b) return b;
        throw new ArgumentTransformationMetadataException($"'{value}' ({value.GetType().Name}) is not an address.");
    }
}
