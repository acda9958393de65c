BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Address parameters' {
    Context 'AddressTransformationAttribute' {
        It 'reads <Name> as 0x<Hex>' -TestCases @(
            @{ Name = 'a negative Int64 hex literal'; Value = 0xffffffffb001aa40; Hex = 'ffffffffb001aa40' }
            @{ Name = 'a negative Int32 hex literal'; Value = 0x80000000; Hex = '80000000' }
            @{ Name = 'a crash-style hex string'; Value = 'ffffffff81000000'; Hex = 'ffffffff81000000' }
            @{ Name = 'a 0x string'; Value = '0x1000'; Hex = '1000' }
            @{ Name = 'a 0n decimal string'; Value = '0n4096'; Hex = '1000' }
            @{ Name = 'a plain integer'; Value = 4096; Hex = '1000' }
        ) {
            $attr = [Kdump.PowerShell.AddressTransformationAttribute]::new()
            $r = $attr.Transform($null, $Value)
            $r | Should -BeOfType [uint64]
            $r | Should -Be ([uint64]::Parse($Hex, 'AllowHexSpecifier'))
        }
        It 'transforms arrays element by element' {
            $attr = [Kdump.PowerShell.AddressTransformationAttribute]::new()
            $r = $attr.Transform($null, @(0xffffffffb001aa40, '10'))
            $r.Count | Should -Be 2
            $r[1] | Should -Be 16
        }
        It 'rejects text that is not an address' {
            $attr = [Kdump.PowerShell.AddressTransformationAttribute]::new()
            { $attr.Transform($null, 'init_task') } | Should -Throw '*not an address*'
        }
    }
}
